"""Stack settings and the account split: production never shares an account with QA, development or demo."""

import json

import pytest

from tenant_storage.accounts import AccountClasses, caller_problems
from tenant_storage.errors import InvalidInput
from tenant_storage.registry import Environment
from tenant_storage.stacks import (
    ALLOWED_ACCOUNT_IDS,
    ENVIRONMENTS,
    NONCURRENT_VERSION_EXPIRATION_DAYS,
    PROTECT_BUCKETS,
    REGION,
    StackSettings,
    cross_stack_problems,
    hosting_stacks,
    parse_stack_settings,
    read_stack_files,
)
from tests.conftest import FIXTURE_INPUTS

QA_CONFIG = {
    REGION: "us-east-1",
    ALLOWED_ACCOUNT_IDS: json.dumps(["222222222222"]),
    ENVIRONMENTS: json.dumps(["qa", "development", "demo"]),
}


def settings(stack: str, **values: object) -> StackSettings:
    """A stack's parsed settings from YAML-like values (lists as lists), through the one parser."""
    config = {REGION: "us-east-1", ALLOWED_ACCOUNT_IDS: ["222222222222"], **values}
    return parse_stack_settings(
        stack, {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    )


def stack_file_problems(files: dict[str, dict]) -> list:
    return cross_stack_problems({stack: settings(stack, **values) for stack, values in files.items()})


def settings_problems(**overrides: str | None) -> list[str]:
    values = {**QA_CONFIG, **overrides}
    with pytest.raises(InvalidInput) as raised:
        parse_stack_settings("qa", values)
    return [str(problem) for problem in raised.value.problems]


class TestTheFixtureStackFiles:
    def test_the_stacks_use_disjoint_aws_accounts(self):
        stacks = {name: file.settings for name, file in read_stack_files(FIXTURE_INPUTS).items()}
        accounts = {stack: set(settings.allowed_account_ids) for stack, settings in stacks.items()}
        assert accounts == {"prod": {"111111111111"}, "qa": {"222222222222"}}

    def test_every_environment_is_hosted_by_exactly_one_stack(self):
        stacks = {name: file.settings for name, file in read_stack_files(FIXTURE_INPUTS).items()}
        assert hosting_stacks(stacks) == {
            Environment.PRODUCTION: ["prod"],
            Environment.STAGING: ["prod"],
            Environment.QA: ["qa"],
            Environment.DEVELOPMENT: ["qa"],
            Environment.DEMO: ["qa"],
        }
        assert cross_stack_problems(stacks) == []

    def test_every_file_is_read_with_its_lines(self):
        files = read_stack_files(FIXTURE_INPUTS)
        assert all(file.problems == () for file in files.values())
        assert files["prod"].key_lines[PROTECT_BUCKETS] > files["prod"].key_lines[ENVIRONMENTS]


class TestCrossStackRules:
    def test_an_environment_hosted_twice_is_refused(self):
        files = {
            "prod": {ENVIRONMENTS: ["production", "staging"], ALLOWED_ACCOUNT_IDS: ["111111111111"]},
            "qa": {ENVIRONMENTS: ["staging"]},
        }
        [problem] = stack_file_problems(files)
        assert str(problem) == (
            "Pulumi.qa.yaml field 'tenant-storage:environments': environment 'staging' is also hosted by "
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

    def test_an_unknown_project_setting_is_a_typo(self, tmp_path):
        (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  tenant-storage:protectBucket: true\n")
        [problem, *_] = read_stack_files(tmp_path)["prod"].problems
        assert str(problem).startswith("Pulumi.prod.yaml:2 field 'tenant-storage:protectBucket': unknown setting")

    def test_yaml_lists_and_json_text_are_one_reading(self, tmp_path):
        (tmp_path / "Pulumi.a.yaml").write_text(
            'config:\n  aws:region: us-east-1\n  aws:allowedAccountIds: ["222222222222"]\n'
            "  tenant-storage:environments: [qa]\n"
        )
        (tmp_path / "Pulumi.b.yaml").write_text(
            "config:\n  aws:region: us-east-1\n  aws:allowedAccountIds: '[\"222222222222\"]'\n"
            "  tenant-storage:environments: '[\"qa\"]'\n"
        )
        files = read_stack_files(tmp_path)
        assert files["a"].settings.environments == files["b"].settings.environments == (Environment.QA,)
        assert files["a"].settings.allowed_account_ids == files["b"].settings.allowed_account_ids


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
        assert any("must be a whole number of days from 1 to 36500, not '0'" in p for p in problems)
        assert any("must be true or false, not 'yes'" in p for p in problems)


class TestCallerGuard:
    settings = parse_stack_settings("qa", QA_CONFIG)
    classes = AccountClasses(production=frozenset({"111111111111"}), non_production=frozenset({"222222222222"}))

    def test_an_allowed_account_and_a_role_pass(self):
        arn = "arn:aws:sts::222222222222:assumed-role/deployer/session"
        assert caller_problems(self.settings, self.classes, "222222222222", arn) == []

    def test_another_account_is_refused(self):
        problems = caller_problems(self.settings, self.classes, "111111111111", "arn:aws:iam::111111111111:user/ops")
        assert str(problems[0]) == (
            "Pulumi.qa.yaml field 'aws:allowedAccountIds': the credentials belong to account 111111111111, "
            "which this stack may not deploy to (allowed: 222222222222)"
        )
        assert "which is a productionClass account; stack 'qa' hosts qa, development, demo" in str(problems[1])

    def test_the_account_root_is_refused(self):
        [problem] = caller_problems(self.settings, self.classes, "222222222222", "arn:aws:iam::222222222222:root")
        assert "refusing to deploy as the account root" in str(problem)
