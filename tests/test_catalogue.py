"""The catalogue of resource types: one list of what each type the program declares is, and every consumer
reading it, so a type or an input nobody described is refused rather than passed in silence."""

from __future__ import annotations

import pytest

from catalogue import COMPONENT_TYPES, RESOURCE_TYPES
from catalogue.readers import OPERATION_ACTIONS, READERS
from catalogue.resource_types import REGION_INPUT
from mock_runtime.runner import Registration
from review.diff import diff_plans
from review.plan import ResourcePlan, StackPlan, not_in_the_catalogue


def registration(resource_type: str, inputs: dict, custom: bool = True) -> Registration:
    return Registration(
        urn=f"urn:pulumi:qa::tenant-storage::{resource_type}::x",
        type=resource_type,
        name="x",
        parent="",
        custom=custom,
        dependencies=(),
        protect=False,
        retain_on_delete=False,
        inputs=inputs,
    )


def some_inputs(token: str) -> dict:
    return {name: f"{name}-value" for name in RESOURCE_TYPES[token].inputs}


class TestWhatTheCatalogueDoesNotKnowIsRefused:
    def test_every_type_with_every_input_it_names_is_accepted(self):
        registrations = [registration(token, some_inputs(token)) for token in RESOURCE_TYPES]
        components = [registration(token, {}, custom=False) for token in COMPONENT_TYPES]
        assert not_in_the_catalogue(registrations + components) == []

    @pytest.mark.parametrize(
        "resource_type",
        [
            "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",  # a bucket setting nobody described
            "aws:iam/userPolicy:UserPolicy",
            "aws:s3/bucketV2:BucketV2",
            "tenant-storage:index:Unknown",  # a component of no known kind, with inputs
        ],
    )
    def test_an_unknown_type_is_refused_by_name(self, resource_type):
        [problem] = not_in_the_catalogue([registration(resource_type, {"bucket": "b"})])
        assert resource_type in problem

    @pytest.mark.parametrize("token", sorted(RESOURCE_TYPES))
    def test_an_input_its_entry_does_not_name_is_refused_by_name(self, token):
        [problem] = not_in_the_catalogue([registration(token, {**some_inputs(token), "forceDestroy": True})])
        assert "forceDestroy" in problem
        assert token in problem

    def test_a_refused_stack_is_a_refused_plan(self, qa_run):
        from dataclasses import replace

        from review.plan import plan_from_run

        stray = registration("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", {"bucket": "b"})
        plan = plan_from_run(replace(qa_run, registrations=[*qa_run.registrations, stray]))
        assert plan.refused
        assert "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration" in plan.errors[0]


def resource(token: str, inputs: dict) -> ResourcePlan:
    return ResourcePlan(f"urn:pulumi:qa::tenant-storage::{token}::x", token, "x", "acme", False, inputs)


def change_of(token: str, name: str) -> tuple[str, bool]:
    before = some_inputs(token) | {name: "before"}
    after = before | {name: "after"}
    base, head = (StackPlan("qa", resources=[resource(token, inputs)]) for inputs in (before, after))
    [change] = diff_plans(base, head).resources
    return change.action, change.data_loss


class TestTheReviewTakesReplacementsAndDataFromTheCatalogue:
    @pytest.mark.parametrize(
        ("token", "name"),
        [(token, name) for token, entry in sorted(RESOURCE_TYPES.items()) for name in sorted(entry.inputs)],
    )
    def test_each_input_replaces_exactly_when_its_entry_says_so(self, token, name):
        entry = RESOURCE_TYPES[token]
        forces = name in entry.replace_on or (entry.regional and name == REGION_INPUT)
        action, data_loss = change_of(token, name)
        assert action == ("replace" if forces else "update")
        assert data_loss == (forces and bool(entry.data))

    def test_a_type_outside_the_catalogue_is_taken_at_its_worst(self):
        base = StackPlan("qa", resources=[resource("aws:x/y:Z", {"setting": 1})])
        head = StackPlan("qa", resources=[resource("aws:x/y:Z", {"setting": 2})])
        [change] = diff_plans(base, head).resources
        assert (change.action, change.data_loss) == ("replace", True)

    def test_buckets_hold_data_and_the_key_unlocks_it(self):
        assert {token for token, entry in RESOURCE_TYPES.items() if entry.data} == {
            "aws:s3/bucket:Bucket",
            "aws:kms/key:Key",
        }


class TestEveryEntryIsComplete:
    @pytest.mark.parametrize("token", sorted(RESOURCE_TYPES))
    def test_it_cites_its_provider_source_and_has_a_reader(self, token):
        entry = RESOURCE_TYPES[token]
        assert entry.source.endswith(".go")
        assert "internal/" in entry.source
        assert entry.check
        assert token in READERS
        for name in READERS[token].not_held:
            assert name in entry.inputs

    def test_every_read_call_names_the_iam_action_that_authorizes_it(self):
        for (service, operation), action in OPERATION_ACTIONS.items():
            prefix, name = action.split(":")
            assert prefix == {"s3control": "s3"}.get(service, service)
            assert name[:1].isupper()
            assert operation[:1].isupper()


def test_the_policy_packs_type_tokens_are_the_catalogues_or_types_it_refuses():
    """The pack runs alone (its folder is what the CLI loads), so it spells the tokens itself: each is a type of
    the catalogue, or one of the types its rules exist to refuse (a user's own policy, an attachment)."""
    import policy.tenant_storage_rules as rules

    tokens = {value for value in vars(rules).values() if isinstance(value, str) and value.startswith("aws:")}
    refused = {rules.USER_POLICY, rules.USER_POLICY_ATTACHMENT, rules.POLICY_ATTACHMENT}
    refused |= {rules.GROUP_POLICY_ATTACHMENT, rules.USER_GROUP_MEMBERSHIP}
    assert tokens - {"aws:kms", "aws:kms:dsse"} - refused <= set(RESOURCE_TYPES)
    assert not refused & set(RESOURCE_TYPES)
