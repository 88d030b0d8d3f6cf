"""The review's engine on stored plans: each edit of a stack's plan (what a program or input change would make
the deploy declare) gets exactly the risk classes its effect calls for. No repository, no second program: the
fixture's plans, edited as data, and `diff_plans` with `stack_risks` (the git scenarios: test_review_gate.py)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest

from review.diff import diff_plans
from review.plan import ResourcePlan, StackPlan
from review.risks import stack_risks
from tests.conftest import fixture_plan

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
KMS_KEY = "aws:kms/key:Key"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BLOCKS_OFF = dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), False)

Edit = Callable[[ResourcePlan], ResourcePlan | None]  # the resource as the head declares it, or None: removed


def edited(plan: StackPlan, matches: Callable[[ResourcePlan], bool], edit: Edit) -> StackPlan:
    resources = []
    for resource in plan.resources:
        head = edit(resource) if matches(resource) else resource
        if head is not None:
            resources.append(head)
    return dataclasses.replace(plan, resources=resources)


def with_inputs(**changes: object) -> Edit:
    return lambda resource: dataclasses.replace(resource, inputs={**resource.inputs, **changes})


def of(org_id: str | None, resource_type: str) -> Callable[[ResourcePlan], bool]:
    return lambda resource: resource.org_id == org_id and resource.type == resource_type


def classes(base: StackPlan, head: StackPlan) -> dict[str, set[str | None]]:
    found: dict[str, set[str | None]] = {}
    for risk in stack_risks(base, head, diff_plans(base, head)):
        found.setdefault(risk.risk_class, set()).add(risk.org_id)
    return found


def public_read_of_everything(resource: ResourcePlan) -> ResourcePlan:
    document = json.loads(resource.inputs["policy"])
    bucket = resource.inputs["bucket"]
    document["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    )
    return dataclasses.replace(resource, inputs={**resource.inputs, "policy": json.dumps(document)})


def every_s3_action(resource: ResourcePlan) -> ResourcePlan:
    document = json.loads(resource.inputs["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    return dataclasses.replace(resource, inputs={**resource.inputs, "policy": json.dumps(document)})


def shorter_noncurrent_retention(resource: ResourcePlan) -> ResourcePlan:
    rules = json.loads(json.dumps(resource.inputs["rules"]))
    for rule in rules:
        if rule.get("noncurrentVersionExpiration"):
            rule["noncurrentVersionExpiration"]["noncurrentDays"] = 1
    return dataclasses.replace(resource, inputs={**resource.inputs, "rules": rules})


EDITS: dict[str, tuple[str, Callable[[ResourcePlan], bool], Edit, dict[str, set[str | None] | None]]] = {
    "a tenant's bucket removed": ("qa", of("xmsqa2", BUCKET), lambda r: None, {"data-loss": {"xmsqa2"}}),
    "a private bucket readable by anyone, its public access block off": (
        "qa",
        lambda r: r.org_id == "xmsqa2" and r.type in (BUCKET_POLICY, PUBLIC_ACCESS_BLOCK),
        lambda r: public_read_of_everything(r) if r.type == BUCKET_POLICY else with_inputs(**BLOCKS_OFF)(r),
        {"newly-public": {"xmsqa2"}},
    ),
    # S3 refuses the policy (the policy pack blocks it first); accepted, the blocks would still void it.
    "a public statement under the four blocks": ("qa", of("xmsqa2", BUCKET_POLICY), public_read_of_everything, {}),
    "every S3 action on every bucket for a profile's group": (
        "qa",
        lambda r: r.type == GROUP_POLICY and "app-storage" in r.inputs["group"],
        every_s3_action,
        {"permissions-widened": {"xmsqa2", "acme-dev"}},
    ),
    "replaced versions kept one day": (
        "qa",
        of("xmsqa2", LIFECYCLE),
        shorter_noncurrent_retention,
        {"data-loss": {"xmsqa2"}},
    ),
    "versioning suspended": (
        "qa",
        of("xmsqa2", VERSIONING),
        with_inputs(versioningConfiguration={"status": "Suspended"}),
        {"data-loss": {"xmsqa2"}},
    ),
    "the stack's key removed": ("qa", of(None, KMS_KEY), lambda r: None, {"data-loss": {None, "xmsqa2", "acme-dev"}}),
    "a production bucket's protection taken away": (
        "prod",
        lambda r: r.type == BUCKET and r.protect,
        lambda r: dataclasses.replace(r, protect=False, retain_on_delete=False),
        {"protection-removed": None},  # every protected bucket: checked by class only
    ),
    "the access key a tenant's app uses removed": (
        "qa",
        of("xmsqa2", "aws:iam/accessKey:AccessKey"),
        lambda r: None,
        {"credentials-revoked": {"xmsqa2"}},
    ),
    "a bucket's tags changed": ("qa", of("xmsqa2", BUCKET), with_inputs(tags={"OrgId": "xmsqa2"}), {}),
}


@pytest.mark.parametrize("case", EDITS.values(), ids=EDITS.keys())
def test_each_effect_gets_exactly_its_risk_classes(case):
    stack, matches, edit, expected = case
    base = fixture_plan(stack)
    head = edited(base, matches, edit)
    assert head.resources != base.resources, "the edit changed nothing: the case tests nothing"
    found = classes(base, head)
    assert set(found) == set(expected), found
    for risk_class, org_ids in expected.items():
        if org_ids is not None:
            assert org_ids <= found[risk_class], found


def test_the_same_plan_is_no_risk():
    assert classes(fixture_plan("qa"), fixture_plan("qa")) == {}
