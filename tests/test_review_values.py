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
        # Whole, never folded, in the order a reviewer reads: who may do what, on what.
        assert lines[1:] == ['  + statement {"Sid": "PublicReadOfPubFolder", "Effect": "Allow", "Principal": "*"}']

    def test_a_long_statement_is_never_cut_and_a_look_alike_letter_shows_as_its_escape(self):
        principal = {"AWS": "arn:aws:iam::222222222222:role/depl\u043ey"}  # a Cyrillic o
        statement = {"Effect": "Allow", "Action": [f"kms:Action{n}" for n in range(40)], "Principal": principal}
        [_, line] = value_lines("policy", None, {"Statement": [statement]})
        assert "role/depl\\u043ey" in line  # the escape, visible
        assert line.index("Principal") < line.index("Action")
        assert "more characters" not in line

    def test_a_mapping_reads_key_by_key(self):
        assert value_lines("tags", {"OrgId": "a", "Env": "qa"}, {"OrgId": "a", "Env": "dev"}) == [
            'tags.Env: "qa" -> "dev"'
        ]


def test_a_git_ref_with_control_characters_reaches_the_terminal_escaped():
    from review.gitbase import Revisions

    text = Revisions("HEAD^{/\n\x1b[31m}", "1a2b3c4", "5d6e7f8", False).text()
    assert "\n" not in text
    assert "\x1b" not in text
    assert text == "base HEAD^{/\\n\\x1b[31m} (1a2b3c4) -> head 5d6e7f8"
