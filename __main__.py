"""tenant-storage: one TenantStorage per tenant in tenants.yaml that this stack hosts."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.stack_config import deploy_environment, read_secret_keys, read_stack_config, refusing_invalid_input
from components.stack_storage import StackStorage, StackStorageArgs
from components.tenant_storage import TenantStorage, TenantStorageArgs
from tenant_storage.accounts import caller_problems
from tenant_storage.errors import raise_if_any
from tenant_storage.inputs import load_stack_inputs

PROJECT_DIR = Path(__file__).resolve().parent

with refusing_invalid_input():
    config, secrets, environment = read_stack_config(), read_secret_keys(), deploy_environment()
    inputs = load_stack_inputs(PROJECT_DIR, pulumi.get_stack(), config, secrets, environment)
    caller = aws.get_caller_identity()
    raise_if_any(caller_problems(inputs.settings, inputs.account_classes, caller.account_id, caller.arn))

account_class = inputs.account_classes.class_of(caller.account_id) or ""
shared_args = StackStorageArgs.for_stack(inputs.settings, caller.account_id, account_class, inputs.tenants)
shared = StackStorage("shared", shared_args)
storages = []
for tenant in inputs.tenants:  # a loop, not a comprehension: one stack frame fewer for every resource
    storages.append(
        TenantStorage(tenant.org_id, TenantStorageArgs.for_tenant(tenant, inputs.settings), shared.services)
    )
shared.grant(storages)
shared.serve_public_folders(storages)

for name, value in shared.outputs.items():
    pulumi.export(name, value)
pulumi.export("tenants", {storage.args.org_id: storage.summary() for storage in storages})
pulumi.export("secretAccessKeys", pulumi.Output.secret({s.args.org_id: s.secret_access_keys for s in storages}))
