"""Stack settings and the account split: production never shares an account with QA, development or demo."""

import json

import pytest

from offline.runtime import PROJECT_DIR
from tenant_storage.errors import InvalidInput
from tenant_storage.registry import Environment
from tenant_storage.stacks import (
    ALLOWED_ACCOUNT_IDS,
    ENVIRONMENTS,
    NONCURRENT_VERSION_EXPIRATION_DAYS,
    PROTECT_BUCKETS,
    REGION,
    caller_problems,
    hosting_stacks,
    parse_stack_settings,
    read_stack_files,
    stack_file_problems,
)

QA_CONFIG = {
    REGION: "us-east-1",
    ALLOWED_ACCOUNT_IDS: json.dumps(["222222222222"]),
    ENVIRONMENTS: json.dumps(["qa", "development", "demo"]),
}


def settings_problems(**overrides: str | None) -> list[str]:
    values = {**QA_CONFIG, **overrides}
    with pytest.raises(InvalidInput) as raised:
        parse_stack_settings("qa", values)
    return [str(problem) for problem in raised.value.problems]


class TestTheCommittedStackFiles:
    def test_the_stacks_use_disjoint_aws_accounts(self):
        stacks = read_stack_files(PROJECT_DIR)
        accounts = {stack: set(config[ALLOWED_ACCOUNT_IDS]) for stack, config in stacks.items()}
        assert accounts == {"prod": {"111111111111"}, "qa": {"222222222222"}}
        assert accounts["prod"].isdisjoint(accounts["qa"])

    def test_every_environment_is_hosted_by_exactly_one_stack(self):
        hosts = hosting_stacks(read_stack_files(PROJECT_DIR))
        assert hosts == {
            "production": ["prod"],
            "staging": ["prod"],
            "qa": ["qa"],
            "development": ["qa"],
            "demo": ["qa"],
        }

    def test_account_ids_are_quoted_strings_and_only_prod_protects_buckets(self):
        stacks = read_stack_files(PROJECT_DIR)
        for config in stacks.values():
            assert all(isinstance(account, str) for account in config[ALLOWED_ACCOUNT_IDS])
            assert config[REGION] == "us-east-1"
        assert stacks["prod"][PROTECT_BUCKETS] is True
        assert PROTECT_BUCKETS not in stacks["qa"]

    def test_the_committed_files_break_no_cross_stack_rule(self):
        assert stack_file_problems(read_stack_files(PROJECT_DIR)) == []


class TestCrossStackRules:
    def test_an_environment_hosted_twice_is_refused(self):
        files = {"prod": {ENVIRONMENTS: ["production"]}, "qa": {ENVIRONMENTS: ["qa", "production"]}}
        [problem] = stack_file_problems(files)
        assert str(problem) == (
            "Pulumi.qa.yaml field 'tenant-storage:environments': environment 'production' is also hosted by "
            "stack 'prod'; each environment belongs to exactly one stack, or to shards with one count "
            '(tenant-storage:shard: "<index>/<count>")'
        )

    def test_an_account_shared_by_two_stacks_is_refused(self):
        files = {
            "prod": {ENVIRONMENTS: ["production"], ALLOWED_ACCOUNT_IDS: ["111111111111"]},
            "qa": {ENVIRONMENTS: ["qa"], ALLOWED_ACCOUNT_IDS: ["111111111111"]},
        }
        [problem] = stack_file_problems(files)
        assert "account 111111111111 is also allowed for stack 'prod'" in str(problem)

    def test_an_unknown_project_setting_is_a_typo(self):
        [problem] = stack_file_problems({"prod": {"tenant-storage:protectBucket": True}})
        assert str(problem).startswith("Pulumi.prod.yaml field 'tenant-storage:protectBucket': unknown setting")


class TestStackSettings:
    def test_defaults(self):
        settings = parse_stack_settings("qa", QA_CONFIG)
        assert settings.environments == (Environment.QA, Environment.DEVELOPMENT, Environment.DEMO)
        assert settings.protect_buckets is False
        assert settings.noncurrent_version_expiration_days == 30
        assert (settings.naming.bucket_prefix, settings.naming.iam_user_prefix) == ("fusion-rms", "rms_")

    def test_missing_allowed_account_ids_is_refused(self):
        [problem] = settings_problems(**{ALLOWED_ACCOUNT_IDS: None})
        assert problem.startswith("Pulumi.qa.yaml field 'aws:allowedAccountIds': required and non-empty")

    def test_empty_allowed_account_ids_is_refused(self):
        [problem] = settings_problems(**{ALLOWED_ACCOUNT_IDS: "[]"})
        assert "required and non-empty" in problem

    def test_an_unquoted_account_id_is_refused(self):
        [problem] = settings_problems(**{ALLOWED_ACCOUNT_IDS: "[222222222222]"})
        assert "222222222222 is not a 12-digit account id written as a quoted string" in problem

    def test_mixing_production_class_and_other_environments_is_refused(self):
        [problem] = settings_problems(**{ENVIRONMENTS: json.dumps(["staging", "qa"])})
        assert "mixes production-class environments (staging) with non-production ones (qa)" in problem

    def test_unknown_and_missing_environments_are_refused(self):
        assert "'prod' is not one of" in settings_problems(**{ENVIRONMENTS: '["prod"]'})[0]
        assert "required and non-empty" in settings_problems(**{ENVIRONMENTS: None})[0]

    def test_region_and_numbers_are_checked(self):
        problems = settings_problems(**{REGION: None, NONCURRENT_VERSION_EXPIRATION_DAYS: "0", PROTECT_BUCKETS: "yes"})
        assert len(problems) == 3
        assert any("field 'aws:region': required" in p for p in problems)
        assert any("must be a whole number of days, at least 1, not '0'" in p for p in problems)
        assert any("must be true or false, not 'yes'" in p for p in problems)


class TestCallerGuard:
    settings = parse_stack_settings("qa", QA_CONFIG)

    def test_an_allowed_account_and_a_role_pass(self):
        arn = "arn:aws:sts::222222222222:assumed-role/deployer/session"
        assert caller_problems(self.settings, "222222222222", arn) == []

    def test_another_account_is_refused(self):
        [problem] = caller_problems(self.settings, "111111111111", "arn:aws:iam::111111111111:user/ops")
        assert str(problem) == (
            "Pulumi.qa.yaml field 'aws:allowedAccountIds': the credentials belong to account 111111111111, "
            "which this stack may not deploy to (allowed: 222222222222)"
        )

    def test_the_account_root_is_refused(self):
        [problem] = caller_problems(self.settings, "222222222222", "arn:aws:iam::222222222222:root")
        assert "refusing to deploy as the account root" in str(problem)
