"""`audit`: does the live account still hold what the stack declares?

    tenant-storage audit --stack qa [--format text|json|markdown] [--endpoint-url URL]

Read-only. What is declared comes from the offline plan of the stack (the real program under the mock
monitor); what is held, from AWS, read for every resource of the plan (the tenants' and the stack's shared
ones: groups, their policies and members, the KMS key, the log bucket) by the catalogue's reader of its type
(`catalogue/readers.py`, the one the emulator's replay proves), and compared input by input
(`catalogue/compare.py`). Beyond what is declared: no lifecycle rule expires replaced or deleted versions
sooner than declared (restore reaches back that far); each user is in its profile's group only; its access
keys are the declared number, younger than `accessKeyMaxAgeDays` (IAM.3) and used within 45 days (IAM.22);
the stack's key is enabled; and, for the account, orphans: buckets and users with the stack's prefixes that no
tenant declares.

A refusal (AccessDenied, an SCP, a bucket policy) is never a finding about the resource: it is reported as
unreadable, with the IAM action the read needs. Only the "does not exist" codes mean absent.
Exit status: 0 clean, 1 findings or orphans, 2 could not run, or could not read all of it.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from catalogue.compare import differences
from catalogue.readers import (
    READERS,
    REFUSED,
    RESOURCE_ABSENT,
    Absent,
    Clients,
    Unreadable,
    absent_setting,
    error_code,
    read,
)
from catalogue.resource_types import ACCESS_KEY as ACCESS_KEY_TYPE
from catalogue.resource_types import BUCKET as BUCKET_TYPE
from catalogue.resource_types import COMPONENT_TYPES, LIFECYCLE, RESOURCE_TYPES
from catalogue.resource_types import KMS_KEY as KMS_KEY_TYPE
from catalogue.resource_types import SECRET as SECRET_TYPE
from live.aws import Aws, StackContext, load_stack, run_command, verify_account
from live.discover import declared_names
from mock_runtime.runner import invented_pairs
from review.diff import chosen_tokens
from review.effects import kind_of
from review.plan import ResourcePlan, StackPlan, TenantPlan, plan_stack, unwrapped
from tenant_storage import naming
from tenant_storage.errors import counted
from tenant_storage.policies import TENANT_BUCKET_TAG

UNUSED_KEY_DAYS = 45  # Security Hub IAM.22
# The catalogue's types audit treats apart, by their tokens.
ACCESS_KEY, BUCKET = ACCESS_KEY_TYPE.token, BUCKET_TYPE.token
KMS_KEY, SECRET = KMS_KEY_TYPE.token, SECRET_TYPE.token
# Audited apart: a key's id exists only once deployed, so keys are counted, aged and checked for use per user.
AUDITED_APART = frozenset({ACCESS_KEY})
STACK = ""  # the orgId of a finding about a resource the stack shares (groups, key, log bucket)


@dataclass(frozen=True)
class Finding:
    orgId: str  # noqa: N815 - the JSON field name
    check: str
    message: str


@dataclass(frozen=True)
class UnreadableResource:
    orgId: str  # noqa: N815 - the JSON field name
    check: str
    resource: str
    action: str  # the IAM action the read needs
    code: str  # what AWS answered

    @property
    def message(self) -> str:
        return f"{self.resource}: could not read, {Unreadable(self.action, self.code).reason}"


class Auditor:
    def __init__(self, aws: Aws, context: StackContext, plan: StackPlan, now: datetime.datetime) -> None:
        self.aws, self.context, self.plan, self.now = aws, context, plan, now
        self.clients = Clients(aws.session, aws.endpoint_url, factory=lambda service, _region: aws.client(service))
        self.findings: list[Finding] = []
        self.unreadable: list[UnreadableResource] = []
        self.live_buckets = set(aws.bucket_names())
        self.real_values: dict[str, str] = {}  # each value only a deploy knows (mocked offline) -> the live one
        self.missing_buckets: set[str] = set()
        # The stack's key when it was not found (its absence is said once), and buckets of a tenant's pattern
        # that are not the tenant's.
        self.missing_keys: set[str] = set()
        self.missing_cloudfront: set[str] = set()  # CloudFront resources not found live: their absence is the finding
        self.unanswered: set[str] = set()  # resources an emulator could not look up: what names them is not checked
        self.twins: set[str] = set()
        self.held: dict[str, dict[str, Any]] = {}  # each resource as its comparison read it, by URN
        self.unchecked: list[str] = []  # what an emulator could not answer (--endpoint-url only)

    def finding(self, org_id: str, check: str, message: str) -> None:
        self.findings.append(Finding(org_id, check, message))

    @contextmanager
    def reading(self, org_id: str, check: str, resource: str) -> Iterator[None]:
        """A read that AWS refuses (or fails) is that resource's outcome, unreadable, and the audit goes on."""
        try:
            yield
        except Unreadable as refused:
            if refused.code == "404" and self.aws.endpoint_url is not None:
                # An API the emulator lacks (moto: CloudFront cache policies, key value store data): not checked.
                self.unchecked.append(f"{resource}: the endpoint does not implement {refused.action} (404)")
                return
            self.unreadable.append(UnreadableResource(org_id, check, resource, refused.action, refused.code))
        except (KeyError, TypeError, ValueError, AttributeError) as error:  # an answer not as the API documents it
            action = self.clients.action_of_last_call()
            self.unreadable.append(UnreadableResource(org_id, check, resource, action, f"unexpected answer: {error!r}"))
        except Exception as error:  # botocore's ClientError, named by its code, or its own errors
            from botocore.exceptions import BotoCoreError

            if isinstance(error, BotoCoreError):
                action = self.clients.action_of_last_call()
                if self.aws.endpoint_url is not None and type(error).__name__ == "EndpointConnectionError":
                    # The emulator has no such service (moto: CloudFront's key value store data).
                    self.unchecked.append(
                        f"{resource}: the endpoint could not answer {action} ({type(error).__name__})"
                    )
                    return
                self.unreadable.append(UnreadableResource(org_id, check, resource, action, type(error).__name__))
                return
            if not error_code(error):
                raise
            code = error_code(error)
            self.unreadable.append(
                UnreadableResource(org_id, check, resource, self.clients.action_of_last_call(), code)
            )

    def audit(self) -> list[Finding]:
        for tenant in self.plan.tenants:
            self.find_bucket(tenant)
        self.find_deployed_values()
        for resource in self.plan.resources:
            self.audit_resource(resource)
            if resource.type == BUCKET and resource.inputs.get("bucket") not in self.missing_buckets:
                bucket = self.live_name(str(resource.inputs.get("bucket")))
                with self.reading(resource.org_id or STACK, "bucket", bucket):
                    self.audit_undeclared_settings(resource.org_id or STACK, bucket)
            if resource.type == KMS_KEY and resource.urn not in self.missing_keys:
                with self.reading(STACK, "kms-key", f"KMS key {self.live_name(resource.id)}"):
                    self.audit_grants(self.live_name(resource.id))
        by_tenant: dict[str, list[ResourcePlan]] = {}
        for resource in self.plan.resources:
            by_tenant.setdefault(resource.org_id or "", []).append(resource)
        for tenant in self.plan.tenants:
            bucket = self.live_name(tenant.bucket_name)
            if tenant.bucket_name not in self.missing_buckets:
                self.audit_noncurrent_retention(tenant.org_id, bucket, by_tenant.get(tenant.org_id, []))
            with self.reading(tenant.org_id, "user", tenant.iam_user_name):
                self.audit_user(tenant, by_tenant.get(tenant.org_id, []))
        return self.findings

    # --- what only a deploy knows ---------------------------------------------------------------------------

    def find_bucket(self, tenant: TenantPlan) -> None:
        """The tenant's live bucket; with a random suffix, the one of its pattern (its name is the deploy's)."""
        if not tenant.mocked_suffix:
            if tenant.bucket_name not in self.live_buckets:
                self.missing_buckets.add(tenant.bucket_name)
                self.finding(tenant.org_id, "bucket", f"bucket {tenant.bucket_name} does not exist in this account")
            return
        prefix = self.context.settings.naming.bucket_prefix
        found = naming.suffixed_buckets(prefix, tenant.org_id, self.live_buckets)
        if len(found) > 1:
            found = self.the_users_bucket(tenant, found)
        if found:
            # The suffix the mocks invented, wherever an input holds it (a policy's ARN, a user's tag), is the live one.
            live_suffix = found[0].rsplit("-", 1)[-1]
            for mocked, urn in self.plan.unknowns.items():
                if urn in tenant.resource_urns and tenant.bucket_name.endswith(f"-{mocked}"):
                    self.real_values[mocked] = live_suffix
            self.real_values[tenant.bucket_name] = found[0]
            return
        self.missing_buckets.add(tenant.bucket_name)
        # The offline plan's suffix is a placeholder: name the pattern the deploy's name will have.
        pattern = naming.bucket_name(prefix, tenant.org_id, f"<{naming.RANDOM_SUFFIX_LENGTH} hex digits>")
        self.finding(tenant.org_id, "bucket", f"no bucket {pattern} in this account (not deployed yet?)")

    def the_users_bucket(self, tenant: TenantPlan, found: list[str]) -> list[str]:
        """Of several buckets of the tenant's pattern, the one its user's TenantBucket tag names (the deploy tags
        the user with its bucket), first; the others are orphans: no tenant declares them."""
        with self.reading(tenant.org_id, "bucket", tenant.iam_user_name):
            tags = self.clients("iam").list_user_tags(UserName=tenant.iam_user_name)["Tags"]
            named = next((tag["Value"] for tag in tags if tag["Key"] == TENANT_BUCKET_TAG), None)
            if named in found:
                self.twins.update(name for name in found if name != named)
                return [str(named), *(name for name in found if name != named)]
        self.finding(
            tenant.org_id,
            "bucket",
            f"{len(found)} buckets match the tenant's name: {', '.join(found)}; its user's "
            f"{TENANT_BUCKET_TAG} tag names none of them",
        )
        return found

    def on_an_emulator(self, check: str, call: Callable[[], Any]) -> Any:
        return self.aws.on_an_emulator(check, call, self.unchecked)

    def find_deployed_values(self) -> None:
        """The stack's key and its credential-store secrets, found by what the stack declares of them: their
        ids and ARNs (mocked offline) are replaced by the live ones wherever an input holds them."""
        produced_by: dict[str, list[str]] = {}
        for value, urn in self.plan.unknowns.items():
            produced_by.setdefault(urn, []).append(value)
        for resource in self.plan.resources:
            if resource.type == KMS_KEY:
                with self.reading(STACK, "kms-key", "the stack's KMS key"):
                    self.find_key(resource, produced_by.get(resource.urn, []))
            elif resource.type in CLOUDFRONT_LISTINGS:
                subject = f"{kind_of(resource.type)} {resource.inputs.get('name') or resource.name}"
                with self.reading(STACK, RESOURCE_TYPES[resource.type].check, subject):
                    self.find_cloudfront(resource, produced_by.get(resource.urn, []))
            elif resource.type == SECRET:
                name = str(resource.inputs.get("name"))
                with self.reading(resource.org_id or STACK, "credential-store", name):
                    try:
                        secret = self.clients("secretsmanager").describe_secret(SecretId=name)
                    except Exception as error:
                        if error_code(error) not in RESOURCE_ABSENT:
                            raise
                        continue  # reported as absent by its own comparison
                    for mocked in produced_by.get(resource.urn, []):
                        self.real_values[mocked] = secret["ARN"]

    def find_cloudfront(self, resource: ResourcePlan, mocked: list[str]) -> None:
        """A CloudFront resource of the stack, found by what the stack declares of it (its name; a distribution's
        comment): its id, ARN and domain, which only the deploy knows, replace the mocks' wherever an input holds
        them (a bucket policy's aws:SourceArn, the distribution's origin access control and cache policy)."""
        if not mocked:
            return
        listing, answer, key, outputs = CLOUDFRONT_LISTINGS[resource.type]
        declared = resource.inputs.get(key)
        what = f"{kind_of(resource.type)} {declared!r}"
        items = self.on_an_emulator(what, lambda: self.cloudfront_items(listing, answer, declared))
        if items is None:
            self.unanswered.add(resource.urn)
            return
        found = [item for item in items if _cloudfront_field(item, key) == declared]
        if not found:
            self.finding(STACK, RESOURCE_TYPES[resource.type].check, f"no {what} in this account (not deployed yet?)")
            self.missing_cloudfront.add(resource.urn)
            return
        if len(found) > 1:
            ids = ", ".join(sorted(str(_cloudfront_field(item, "Id")) for item in found))
            self.finding(STACK, RESOURCE_TYPES[resource.type].check, f"{len(found)} {what}s: {ids}")
        real = {output: str(_cloudfront_field(found[0], field)) for output, field in outputs.items()}
        self.real_values |= invented_pairs(
            self.plan.account_id, resource.type, resource.name, unwrapped(resource.inputs), real
        )

    def cloudfront_items(self, listing: str, answer: str, name: Any) -> list[Mapping[str, Any]]:
        cloudfront = self.clients("cloudfront")
        if listing == "describe_key_value_store":  # no listing by name: the store itself, or none
            try:
                return [cloudfront.describe_key_value_store(Name=name)[answer]]
            except Exception as error:
                if error_code(error) in RESOURCE_ABSENT:
                    return []
                raise
        items: list[Mapping[str, Any]] = []
        marker = ""
        while True:  # CloudFront's listings page by Marker, and boto3 has no paginator for all of them
            page = getattr(cloudfront, listing)(**({"Marker": marker} if marker else {}))
            items += _cloudfront_items(page, answer)
            marker = str((page.get(answer) or {}).get("NextMarker") or "")
            if not marker:
                return items

    def find_key(self, key: ResourcePlan, mocked: list[str]) -> None:
        kms = self.clients("kms")
        description = key.inputs.get("description")
        candidates, refused = [], []
        for page in kms.get_paginator("list_keys").paginate():
            for listed in page["Keys"]:
                try:
                    metadata = kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]
                except Exception as error:  # another key whose policy keeps this caller out: not the stack's
                    if error_code(error) not in REFUSED:
                        raise
                    refused.append(listed["KeyId"])
                    continue
                if metadata.get("Description") == description and metadata.get("KeyManager") == "CUSTOMER":
                    candidates.append(metadata)
        if not candidates:
            self.missing_keys.add(key.urn)
            if refused:
                raise Unreadable("kms:DescribeKey", "AccessDenied")
            self.finding(STACK, "kms-key", f"no KMS key described {description!r} in this account (not deployed yet?)")
            return
        live = min(candidates, key=lambda metadata: metadata.get("KeyState") != "Enabled")
        if len(candidates) > 1:
            ids = ", ".join(sorted(metadata["KeyId"] for metadata in candidates))
            self.finding(STACK, "kms-key", f"{len(candidates)} KMS keys are described {description!r}: {ids}")
        if live.get("KeyState") != "Enabled":
            self.finding(STACK, "kms-key", f"KMS key {live['KeyId']} is {live.get('KeyState')}, not Enabled")
        for value in mocked:
            self.real_values[value] = live["Arn"] if value.startswith("arn:") else live["KeyId"]

    def live_name(self, value: str) -> str:
        return self.real_values.get(value, value)

    def substituted(self, inputs: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(unwrapped(inputs))
        for mocked, real in sorted(self.real_values.items(), key=lambda pair: -len(pair[0])):
            text = text.replace(json.dumps(mocked)[1:-1], json.dumps(real)[1:-1])
        return dict(json.loads(text))

    # --- declared versus held, for every resource -----------------------------------------------------------

    def audit_resource(self, resource: ResourcePlan) -> None:
        if resource.type in COMPONENT_TYPES or resource.type in AUDITED_APART:
            return
        entry, reader = RESOURCE_TYPES[resource.type], READERS[resource.type]
        missing = self.missing_keys | self.missing_cloudfront | self.unanswered
        if resource.inputs.get("bucket") in self.missing_buckets or resource.urn in missing:
            return  # its bucket's absence is the finding
        declared = self.substituted(resource.inputs)
        compared = {
            name: value
            for name, value in declared.items()
            if name not in reader.not_held and name not in reader.secret_inputs
        }
        if not compared:
            return  # a value of the Pulumi state only (the random suffix): the bucket names that hold it are read
        org, subject = resource.org_id or STACK, self.subject(resource, declared)
        unknown = self.still_unknown(compared)
        if unknown and self.unanswered and not self.still_unknown(compared, besides=self.unanswered):
            # What the emulator could not look up (a cache policy's id): those inputs are not checked, the rest are.
            self.unchecked.append(f"{subject}: {', '.join(sorted(unknown))} names what the endpoint could not look up")
            compared = {name: value for name, value in compared.items() if name not in unknown}
            unknown = []
        if unknown:
            names = ", ".join(sorted(unknown))
            self.finding(org, entry.check, f"{subject}: not compared, {names} holds a value the account does not show")
            return
        real_id = self.real_values.get(resource.id, resource.id)
        with self.reading(org, entry.check, subject):
            try:
                held = read(self.clients, resource.type, declared, real_id, secrets=False)
            except Absent:
                self.finding(org, entry.check, f"{subject}: {kind_of(resource.type)} does not exist")
                return
            self.held[resource.urn] = held
            for name, value in compared.items():
                for line in differences(name, value, held.get(name)):
                    self.finding(org, "tags" if name == "tags" else entry.check, f"{subject}: {line}")

    def still_unknown(self, inputs: dict[str, Any], besides: AbstractSet[str] = frozenset()) -> list[str]:
        """The inputs holding a value AWS chooses at create (a key's id) that the audit did not find live, leaving out
        the values of the resources `besides`."""
        invented = [value for value, urn in self.chosen.items() if value not in self.real_values and urn not in besides]
        if not invented:
            return []
        pattern = re.compile("|".join(re.escape(value) for value in sorted(invented, key=len, reverse=True)))
        return [name for name, value in inputs.items() if pattern.search(json.dumps(value))]

    @functools.cached_property
    def chosen(self) -> dict[str, str]:
        """The plan's values AWS chooses at create, by producer: the same for every resource compared."""
        return chosen_tokens(self.plan)

    def subject(self, resource: ResourcePlan, declared: dict[str, Any]) -> str:
        if resource.type == KMS_KEY:
            return f"KMS key {self.live_name(resource.id)}"
        if "key" in declared and "bucket" in declared:
            return f"{declared['bucket']}/{declared['key']}"
        for name in ("bucket", "group", "groupName", "userName", "user", "name", "secretId"):
            if declared.get(name):
                return str(declared[name])
        return resource.name

    # --- beyond what is declared ----------------------------------------------------------------------------

    UNDECLARED: ClassVar[dict[str, tuple[str, str]]] = {
        "replication (objects copied elsewhere)": ("get_bucket_replication", "ReplicationConfiguration"),
        "a static website": ("get_bucket_website", "IndexDocument"),
        "CORS rules (browsers of other sites)": ("get_bucket_cors", "CORSRules"),
    }

    def audit_undeclared_settings(self, org: str, bucket: str) -> None:
        """Settings the stack never declares, so no declared resource compares them: each must be absent."""
        s3 = self.clients("s3")
        for what, (get, field) in self.UNDECLARED.items():
            answer = absent_setting(functools.partial(getattr(s3, get), Bucket=bucket), {})
            if answer.get(field):
                self.finding(org, "bucket", f"{bucket}: has {what}, which the stack never declares")

    def audit_grants(self, key_id: str) -> None:
        """A grant gives its grantee what it lists without the key policy's conditions (decrypting included);
        the stack's key policy allows them for AWS services only, and the program makes none."""
        grants = self.clients("kms").list_grants(KeyId=key_id).get("Grants", [])
        for grant in grants:
            operations = ", ".join(grant.get("Operations", []))
            self.finding(
                STACK,
                "kms-key",
                f"KMS key {key_id}: grant {grant.get('GrantId')} gives {grant.get('GranteePrincipal')} {operations}",
            )

    def audit_noncurrent_retention(self, org: str, bucket: str, resources: list[ResourcePlan]) -> None:
        """`restore` reaches back as far as replaced and deleted versions are kept: a live rule (any rule, on any
        prefix) that expires them sooner than the stack declares shortens that. The lifecycle as its comparison
        read it (unread, absent or refused: already said there)."""
        lifecycle = next((r for r in resources if r.type == LIFECYCLE.token), None)
        declared_rules = lifecycle.inputs.get("rules", []) if lifecycle else []
        declared = [
            int(days)
            for rule in declared_rules
            if (days := (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")) is not None
        ]
        if not declared:
            return
        held = self.held.get(lifecycle.urn) if lifecycle else None
        if held is None:
            return
        live = [
            (int(days), rule.get("id", ""))
            for rule in held.get("rules") or []
            if rule.get("status") == "Enabled"
            and (days := (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays")) is not None
        ]
        if live and min(live)[0] < min(declared):
            days, rule_id = min(live)
            self.finding(
                org,
                "noncurrent-retention",
                f"{bucket}: lifecycle rule {rule_id or '(no id)'} expires replaced and deleted versions after {days} "
                f"days, the stack declares {min(declared)}: restore reaches back only {days} days",
            )

    def audit_user(self, tenant: TenantPlan, resources: list[ResourcePlan]) -> None:
        """What the declared resources cannot say: the user's groups (a declared membership lists a group's
        members, not the user's other groups) and its keys, counted, aged and checked for use."""
        iam, user, org = self.clients("iam"), tenant.iam_user_name, tenant.org_id
        try:
            groups = sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"])
        except Exception as error:
            if error_code(error) in RESOURCE_ABSENT:
                return  # the user's absence is its finding
            raise
        wanted = [naming.group_name(self.context.settings.stack, tenant.profile)]
        if groups != wanted:
            self.finding(
                org, "user-groups", f"{user}: groups {', '.join(groups) or 'none'}, declared {', '.join(wanted)}"
            )
        self.audit_other_credentials(org, user)
        self.audit_keys(org, user, len([r for r in resources if r.type == ACCESS_KEY]))

    def audit_other_credentials(self, org: str, user: str) -> None:
        """A tenant user signs in with its access keys only: a console password, an SSH key, a service-specific
        credential, a signing certificate or an MFA device was added by hand."""
        iam = self.clients("iam")
        try:
            iam.get_login_profile(UserName=user)
            self.finding(org, "user-credentials", f"{user}: has a console password (a login profile), made by hand")
        except Exception as error:
            if error_code(error) not in RESOURCE_ABSENT:
                raise
        held = {
            "SSH public key": lambda: iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"],
            "service-specific credential": lambda: iam.list_service_specific_credentials(UserName=user)[
                "ServiceSpecificCredentials"
            ],
            "signing certificate": lambda: iam.list_signing_certificates(UserName=user)["Certificates"],
            "MFA device": lambda: iam.list_mfa_devices(UserName=user)["MFADevices"],
        }
        for kind, listed in held.items():
            items = self.on_an_emulator(f"{user}: {kind}s", listed)
            if items:
                self.finding(org, "user-credentials", f"{user}: has {len(items)} {kind}(s), made by hand")

    def audit_keys(self, org: str, user: str, declared: int) -> None:
        iam = self.clients("iam")
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        if len(keys) > declared:
            # Offline the declared keys' ids are unknown (IAM makes them at the deploy): name every key, oldest
            # first, so the one to delete (aws iam delete-access-key --user-name ... --access-key-id ...) is there.
            listed = ", ".join(
                f"{key['AccessKeyId']} (made {key['CreateDate']:%Y-%m-%d})"
                for key in sorted(keys, key=lambda key: key["CreateDate"])
            )
            self.finding(
                org, "access-keys", f"{user}: {len(keys)} access keys, {declared} declared (a legacy key?): {listed}"
            )
        elif len(keys) < declared:
            self.finding(org, "access-keys", f"{user}: {len(keys)} access keys, {declared} declared")
        limit = self.context.settings.access_key_max_age_days
        for key in keys:
            key_id, created = key["AccessKeyId"], key["CreateDate"]
            if key.get("Status") != "Active":
                self.finding(org, "access-keys", f"{user}: key {key_id} is {key.get('Status')}, declared Active")
            age = (self.now - created).days
            if age > limit:
                self.finding(org, "access-keys", f"{user}: key {key_id} is {age} days old, over {limit} (IAM.3)")
            used = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"].get("LastUsedDate")
            idle = (self.now - (used or created)).days
            if idle > UNUSED_KEY_DAYS:
                state = "never used" if used is None else f"unused for {idle} days"
                self.finding(org, "access-keys", f"{user}: key {key_id} {state}, over {UNUSED_KEY_DAYS} days (IAM.22)")

    def orphans(self, project_dir: Path) -> list[str]:
        rules = self.context.settings.naming
        fixed, patterns, users = declared_names(project_dir, self.context)
        buckets = sorted(
            name
            for name in self.live_buckets
            if name.startswith(f"{rules.bucket_prefix}-")
            and not naming.is_shared_resource_name(name)
            and name not in fixed
            and (name in self.twins or not any(p.fullmatch(name) for p in patterns))
        )
        pages = self.clients("iam").get_paginator("list_users").paginate()
        live_users = [user["UserName"] for page in pages for user in page["Users"]]
        return [f"bucket {name}" for name in buckets] + [
            f"user {name}"
            for name in sorted(live_users)
            if name.startswith(rules.iam_user_prefix) and name not in users
        ]


# The CloudFront resources whose ids (and ARNs, a distribution's domain) only a deploy knows: how `audit` finds each
# live, by the boto3 listing, its answer's list, the declared input that names it, and the outputs it gives.
CLOUDFRONT_LISTINGS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "aws:cloudfront/originAccessControl:OriginAccessControl": (
        "list_origin_access_controls",
        "OriginAccessControlList",
        "name",
        {"id": "Id"},
    ),
    "aws:cloudfront/keyValueStore:KeyValueStore": (
        "describe_key_value_store",
        "KeyValueStore",
        "name",
        {"id": "Id", "arn": "ARN"},
    ),
    "aws:cloudfront/cachePolicy:CachePolicy": ("list_cache_policies", "CachePolicyList", "name", {"id": "Id"}),
    "aws:cloudfront/distribution:Distribution": (
        "list_distributions",
        "DistributionList",
        "comment",
        {"id": "Id", "arn": "ARN", "domainName": "DomainName"},
    ),
}


def _cloudfront_items(page: Mapping[str, Any], answer: str) -> list[Mapping[str, Any]]:
    """A listing page's items, each flattened to its fields (a cache policy's are under CachePolicy and its config)."""
    items = []
    for item in (page.get(answer) or {}).get("Items") or []:
        policy = item.get("CachePolicy")
        items.append({**policy, **policy.get("CachePolicyConfig", {})} if policy else item)
    return items


def _cloudfront_field(item: Mapping[str, Any], name: str) -> Any:
    """`name` (the provider's camelCase or the API's) as the listing spells it."""
    return item.get(name[:1].upper() + name[1:], item.get(name))


def tally(findings: list[Any], orphans: list[Any], unreadable: list[Any]) -> str:
    return f"{counted(len(findings), 'finding')}, {counted(len(orphans), 'orphan')}, {len(unreadable):,} unreadable"


def render(document: dict[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(document, indent=2, default=str) + "\n"
    findings, orphans, unreadable = document["findings"], document["orphans"], document["unreadable"]
    refused = [f"{u['orgId'] or '(stack)'}: {u['check']}: {u['message']}" for u in unreadable]
    if output_format == "markdown":
        from review.render import markdown_code

        out = [
            f"## Audit of stack {markdown_code(document['stack'])} in account {markdown_code(document['account'])}",
            "",
        ]
        if findings or orphans or unreadable:
            out.append(f"{tally(findings, orphans, unreadable)}.")
        else:
            out.append("Clean.")
        out += ["", "| orgId | check | finding |", "| --- | --- | --- |"] if findings else []
        for f in findings:
            org = markdown_code(f["orgId"] or "(stack)", table_cell=True)
            message = markdown_code(f["message"], table_cell=True)
            out.append(f"| {org} | {f['check']} | {message} |")
        out += ["", *[f"- orphan: {markdown_code(orphan)}" for orphan in orphans]] if orphans else []
        out += ["", *[f"- unreadable: {markdown_code(line)}" for line in refused]] if refused else []
        return "\n".join(out) + "\n"
    counts = tally(findings, orphans, unreadable)
    out = [f"audit of stack {document['stack']} in account {document['account']}: {counts}"]
    out += [f"  {f['orgId'] or '(stack)'}: {f['check']}: {f['message']}" for f in findings]
    out += [f"  unreadable: {line}" for line in refused]
    out += [f"  not checked: {line}" for line in document["unchecked"]]
    out += [f"  orphan: {orphan} (no tenant declares it; adopt it with discover, or remove it)" for orphan in orphans]
    return "\n".join(out) + "\n"


def run_audit(
    project_dir: Path,
    stack: str,
    output_format: str,
    endpoint_url: str | None,
    session: Any = None,
    now: datetime.datetime | None = None,
) -> int:
    aws = Aws(session, endpoint_url)

    def body() -> int:
        context = load_stack(project_dir, stack)
        account = verify_account(aws, context, "audit")
        plan = plan_stack(stack, project_dir)
        auditor = Auditor(aws, context, plan, now or datetime.datetime.now(datetime.UTC))
        findings = auditor.audit()
        orphans = auditor.orphans(project_dir)
        document = {
            "project": str(project_dir),
            "stack": stack,
            "account": account,
            "findings": [asdict(finding) for finding in findings],
            "orphans": orphans,
            "unreadable": [asdict(refused) | {"message": refused.message} for refused in auditor.unreadable],
            "unchecked": auditor.unchecked,
        }
        sys.stdout.write(render(document, output_format))
        if findings or orphans:
            return 1
        return 2 if auditor.unreadable else 0

    return run_command("audit", body)
