"""A review shows values, as `pulumi preview --diff` does: old -> new, secrets masked, what only a deploy knows
named, long values folded, policies as statements added and removed, lists as items added and removed."""

from __future__ import annotations

import json
import re

from pulumi.runtime import rpc

from review.values import AS_DEPLOYED, KNOWN_AFTER_DEPLOY, SECRET, folded, shown, value_lines


def secret(value: object) -> dict[str, object]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


class TestWhatAReviewerMaySee:
    def test_a_secret_is_masked_wherever_it_is(self):
        value = {"name": "rms_a", "keys": [secret("wJalrXUtnFEMI/K7MDENG"), "plain"]}
        assert shown(value) == {"name": "rms_a", "keys": [SECRET, "plain"]}
        assert "wJalr" not in json.dumps(shown(value))

    def test_a_value_only_a_deploy_knows_is_named_not_shown(self):
        unknowns = re.compile(r"mock-key-[0-9a-f]+")
        arn = "arn:aws:kms:us-east-1:222222222222:key/mock-key-72b5f8d83326"
        assert shown(arn, unknowns, AS_DEPLOYED) == f"arn:aws:kms:us-east-1:222222222222:key/{AS_DEPLOYED}"
        assert shown([arn], unknowns, KNOWN_AFTER_DEPLOY) == [
            f"arn:aws:kms:us-east-1:222222222222:key/{KNOWN_AFTER_DEPLOY}"
        ]

    def test_a_long_value_is_folded_and_says_how_much_is_left_out(self):
        assert folded("x" * 200, 160) == "x" * 160 + "… (40 more characters)"
        assert folded("short") == "short"


class TestHowAChangeReads:
    def test_a_scalar_reads_old_then_new(self):
        assert value_lines("blockPublicPolicy", True, False) == ["blockPublicPolicy: true -> false"]
        assert value_lines("description", None, "x") == ['description: (none) -> "x"']

    def test_a_list_reads_as_the_items_it_loses_and_gains(self):
        assert value_lines("users", ["rms_a", "rms_b"], ["rms_b", "rms_c"]) == ["users:", '  - "rms_a"', '  + "rms_c"']

    def test_a_policy_reads_as_the_statements_it_loses_and_gains(self):
        kept = {"Sid": "DenyInsecureTransport", "Effect": "Deny"}
        public = {"Sid": "PublicReadOfPubFolder", "Effect": "Allow", "Principal": "*"}
        before = json.dumps({"Version": "2012-10-17", "Statement": [kept]})
        after = json.dumps({"Version": "2012-10-17", "Statement": [kept, public]})
        lines = value_lines("policy", before, after)
        assert lines[0] == "policy:"
        assert lines[1:] == ['  + statement {"Effect": "Allow", "Principal": "*", "Sid": "PublicReadOfPubFolder"}']

    def test_a_mapping_reads_key_by_key(self):
        assert value_lines("tags", {"OrgId": "a", "Env": "qa"}, {"OrgId": "a", "Env": "dev"}) == [
            'tags.Env: "qa" -> "dev"'
        ]
