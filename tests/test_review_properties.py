"""Properties of the review gate over random pairs of registries and stack settings.

For any base and head: every data-holding resource the deploy deletes or replaces appears as `data-loss`,
and every action anonymous callers gain on a bucket that holds data appears as `newly-public`. The oracle
here is independent of the effects model: it reads the diff's resource changes, and asks the anonymous
evaluator directly about each bucket's policy and public access block at both revisions.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.diff import diff_plans, loses_data
from review.moves import find_moves, merge_moves
from review.plan import ResourcePlan, StackPlan, plan_stack
from review.risks import Risk, stack_risks
from tenant_storage.anonymous_access import PublicAccessBlock, anonymous_allowed
from tests.conftest import BUCKET, BUCKET_POLICY, PUBLIC_ACCESS_BLOCK, REGISTRY_EDITS, edit_registry, fixture_project

registry_edits = st.lists(
    st.tuples(
        st.sampled_from(REGISTRY_EDITS),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    max_size=3,
)
qa_settings = st.fixed_dictionaries(
    {},
    optional={
        "tenant-storage:noncurrentVersionExpirationDays": st.sampled_from([7, 30, 90]),
        "tenant-storage:privateBucketEncryption": st.sampled_from(["sse-kms", "sse-s3"]),
        "tenant-storage:protectBuckets": st.just(True),
        "tenant-storage:accessLogRetentionDays": st.sampled_from([30, 365]),
    },
)


def write_settings(repo: Path, stack: str, values: dict) -> None:
    path = repo / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"].update(values)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def anonymous_reads(plan: StackPlan) -> dict[str, set[str]]:
    """Per bucket URN, the object keys (of `pub/x`, `x`) an anonymous caller may get: asked of the evaluator."""
    by_name = {str(r.inputs["bucket"]): r for r in plan.resources if r.type == BUCKET}
    policies: dict[str, ResourcePlan] = {}
    blocks: dict[str, ResourcePlan] = {}
    for resource in plan.resources:
        if resource.type == BUCKET_POLICY:
            policies[str(resource.inputs["bucket"])] = resource
        elif resource.type == PUBLIC_ACCESS_BLOCK:
            blocks[str(resource.inputs["bucket"])] = resource
    import json

    readable: dict[str, set[str]] = {}
    for name, bucket in by_name.items():
        policy = json.loads(policies[name].inputs["policy"]) if name in policies else None
        settings_ = blocks[name].inputs if name in blocks else {}
        block = PublicAccessBlock(
            bool(settings_.get("blockPublicAcls", True)),
            bool(settings_.get("ignorePublicAcls", True)),
            bool(settings_.get("blockPublicPolicy", True)),
            bool(settings_.get("restrictPublicBuckets", True)),
        )
        readable[bucket.urn] = {
            key
            for key in ("pub/x", "x")
            if anonymous_allowed(policy, block, "s3:GetObject", f"arn:aws:s3:::{name}/{key}")
        }
    return readable


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registry_edits, qa_settings, qa_settings)
def test_every_lost_bucket_or_key_is_data_loss_and_every_anonymous_gain_is_newly_public(edits, before, after):
    with tempfile.TemporaryDirectory() as scratch:
        base_dir, head_dir = Path(scratch) / "base", Path(scratch) / "head"
        shutil.copytree(fixture_project(), base_dir)
        write_settings(base_dir, "qa", before)
        shutil.copytree(base_dir, head_dir)
        write_settings(head_dir, "qa", after)
        registry = yaml.safe_load((head_dir / "tenants.yaml").read_text())
        for change in edits:
            edit_registry(registry, change)
        (head_dir / "tenants.yaml").write_text(yaml.safe_dump(registry, sort_keys=False))

        bases = {stack: plan_stack(stack, base_dir) for stack in ("qa", "prod")}
        heads = {stack: plan_stack(stack, head_dir) for stack in ("qa", "prod")}
        if any(plan.refused for plan in heads.values()):
            return  # an edit made an invalid registry (a name clash): refused, nothing to review
        diffs = [diff_plans(bases[stack], heads[stack]) for stack in ("qa", "prod")]
        risks: list[Risk] = []
        for diff in diffs:
            risks += stack_risks(bases[diff.stack], heads[diff.stack], diff)
        moves = find_moves(bases, diffs, {"qa": ("222222222222",), "prod": ("111111111111",)})
        risks = merge_moves(risks, moves)

        data_loss = {(r.stack, r.urn) for r in risks if r.risk_class == "data-loss"}
        moved = {(move.source, move.org_id) for move in moves}
        for diff in diffs:
            for change in diff.resources:
                if loses_data(change.type) and change.action in ("delete", "replace"):
                    assert (diff.stack, change.urn) in data_loss or (diff.stack, change.org_id) in moved, change

        newly_public = {(r.stack, r.urn) for r in risks if r.risk_class == "newly-public"}
        for diff in diffs:
            before_reads, after_reads = anonymous_reads(bases[diff.stack]), anonymous_reads(heads[diff.stack])
            adopted = {change.urn for change in diff.resources if change.import_id}
            for urn, keys in after_reads.items():
                held_data = urn in before_reads or urn in adopted
                if held_data and keys - before_reads.get(urn, set()):
                    assert (diff.stack, urn) in newly_public, (urn, keys, before_reads.get(urn))
