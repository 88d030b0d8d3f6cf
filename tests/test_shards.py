"""Sharding: one environment's tenants split across stacks by a stable hash of the orgId."""

import json

import pytest

from tenant_storage.errors import InvalidInput
from tenant_storage.registry import Environment, Profile, Tenant, TenantRegistry
from tenant_storage.stacks import (
    ALLOWED_ACCOUNT_IDS,
    ENVIRONMENTS,
    REGION,
    SHARD,
    Shard,
    parse_shard,
    parse_stack_settings,
    tenants_for_stack,
)
from tests.conftest import deployed_org_ids, run_stack
from tests.test_stacks import stack_file_problems

ORG_IDS = [f"org{index}" for index in range(200)]
QA = {ENVIRONMENTS: ["qa"], ALLOWED_ACCOUNT_IDS: ["222222222222"]}


def shard_files(*shards: str | None) -> dict[str, dict]:
    return {f"qa-{n}": {**QA, **({SHARD: shard} if shard else {})} for n, shard in enumerate(shards)}


class TestShardSelector:
    def test_the_shards_of_a_count_partition_the_tenants(self):
        for count in (2, 3, 4):
            owners = [[index for index in range(count) if Shard(index, count).hosts(org)] for org in ORG_IDS]
            assert all(len(owner) == 1 for owner in owners)
            assert {owner[0] for owner in owners} == set(range(count)), "some shard got no tenant"

    def test_the_assignment_is_stable_across_runs_and_machines(self):
        """crc32 of the orgId: if this changes, tenants would move between stacks (delete here, create there)."""
        expected = {"xmsqa1": 2, "xmsqa2": 0, "acme-dev": 1, "tradeshow-demo": 1}
        assert {org: next(i for i in range(4) if Shard(i, 4).hosts(org)) for org in expected} == expected

    @pytest.mark.parametrize(("text", "shard"), [("0/2", Shard(0, 2)), ("3/4", Shard(3, 4)), ("0/1", Shard(0, 1))])
    def test_index_slash_count_is_parsed(self, text, shard):
        assert parse_shard(text) == shard

    @pytest.mark.parametrize(
        "text", ["2/2", "1", "-1/2", "a/b", "1/0", 3, "0/65", "0/1000000", "0/2\n", "\uff10/\uff12", "0/\u00b2"]
    )
    def test_anything_else_is_not_a_shard(self, text):
        assert parse_shard(text) is None

    def test_a_bad_shard_setting_is_refused(self):
        config = {REGION: "us-east-1", ALLOWED_ACCOUNT_IDS: '["222222222222"]', ENVIRONMENTS: '["qa"]', SHARD: "2/2"}
        with pytest.raises(InvalidInput) as raised:
            parse_stack_settings("qa", config)
        assert "field 'tenant-storage:shard': must be \"<index>/<count>\" with 0 <= index < count" in str(raised.value)

    def test_a_stack_deploys_only_its_shard_of_its_environments(self):
        registry = TenantRegistry(
            tenants=[Tenant(org_id=org, environment=Environment.QA, profile=Profile.UPLOAD_ONLY) for org in ORG_IDS]
        )
        config = {REGION: "us-east-1", ALLOWED_ACCOUNT_IDS: '["222222222222"]', ENVIRONMENTS: json.dumps(["qa"])}
        halves = [
            {t.org_id for t in tenants_for_stack(registry, parse_stack_settings("qa", {**config, SHARD: f"{i}/2"}))}
            for i in (0, 1)
        ]
        assert halves[0].isdisjoint(halves[1])
        assert halves[0] | halves[1] == set(ORG_IDS)


class TestShardedStackFiles:
    def test_complete_shards_may_share_their_account(self):
        assert stack_file_problems(shard_files("0/2", "1/2")) == []

    def test_a_missing_shard_is_refused(self):
        [problem] = stack_file_problems(shard_files("0/3", "2/3"))
        assert "environment 'qa' is split into 3 shards but no stack hosts shard 1/3" in str(problem)

    def test_missing_shards_are_one_problem_however_many(self):
        [problem] = stack_file_problems(shard_files("0/64"))
        assert "no stack hosts shards 1/64, 2/64," in str(problem)

    def test_a_shard_hosted_twice_is_refused(self):
        problems = [str(problem) for problem in stack_file_problems(shard_files("0/2", "1/2", "1/2"))]
        assert problems == ["Pulumi.qa-2.yaml field 'tenant-storage:shard': shard 1/2 of 'qa' is also hosted by 'qa-1'"]

    @pytest.mark.parametrize("shards", [("0/2", None), ("0/2", "1/3")])
    def test_sharded_and_unsharded_or_different_counts_do_not_mix(self, shards):
        [problem] = stack_file_problems(shard_files(*shards))
        assert "environment 'qa' is also hosted by stack 'qa-0'" in str(problem)

    def test_stacks_of_different_environments_still_need_separate_accounts(self):
        files = {"qa": QA, "demo": {ENVIRONMENTS: ["demo"], ALLOWED_ACCOUNT_IDS: ["222222222222"]}}
        [problem] = stack_file_problems(files)
        assert "account 222222222222 is also allowed for stack 'qa'" in str(problem)


def test_the_program_splits_a_stack_into_shards(project):
    stack_file = (project / "Pulumi.qa.yaml").read_text()
    (project / "Pulumi.qa.yaml").write_text(stack_file + '  tenant-storage:shard: "0/2"\n')
    (project / "Pulumi.qa-b.yaml").write_text(stack_file + '  tenant-storage:shard: "1/2"\n')
    first, second = run_stack("qa", project), run_stack("qa-b", project, account_id="222222222222")
    assert first.error is None
    assert second.error is None
    assert deployed_org_ids(first).isdisjoint(deployed_org_ids(second))
    assert deployed_org_ids(first) | deployed_org_ids(second) == {"xmsqa1", "xmsqa2", "acme-dev", "tradeshow-demo"}
