"""The account split: which AWS accounts may hold production-class tenants, declared once in `accounts.yaml`.

Production and staging tenants live only in production-class accounts; QA, development and demo
tenants never do. The classes are declared in a committed, reviewed file at the project root rather
than in stack config, because stack config can come from places a pull request does not show (ESC
environments, `--config-file`). Before declaring anything, the program checks the *live* caller's
account (from `get_caller_identity`) against this file, so no stack setting can move a tenant across
the split: a stack's environments decide which class of account it needs, and the account it is
actually running in must be of that class.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenant_storage.errors import InvalidInput, Problem, did_you_mean
from tenant_storage.stacks import ACCOUNT_ID_PATTERN, ALLOWED_ACCOUNT_IDS, StackSettings, stack_file_name
from tenant_storage.yaml_reader import Mapping as YamlMapping
from tenant_storage.yaml_reader import duplicate_key_problems, load_yaml, read_text, yaml_repr, yaml_type

ACCOUNTS_FILE = "accounts.yaml"
PRODUCTION_CLASS = "productionClass"
NON_PRODUCTION_CLASS = "nonProductionClass"
CLASS_KEYS = (PRODUCTION_CLASS, NON_PRODUCTION_CLASS)
MAX_ACCOUNTS_FILE_BYTES = 64 * 1024
_ROOT_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:root")


@dataclass(frozen=True)
class AccountClasses:
    production: frozenset[str]
    non_production: frozenset[str]

    def class_of(self, account_id: str) -> str | None:
        if account_id in self.production:
            return PRODUCTION_CLASS
        if account_id in self.non_production:
            return NON_PRODUCTION_CLASS
        return None


def load_account_classes(project_dir: Path) -> AccountClasses:
    """Read and check `accounts.yaml`; raise InvalidInput with every problem in it."""
    path = project_dir / ACCOUNTS_FILE
    if not path.exists():
        raise InvalidInput(
            [
                Problem(
                    ACCOUNTS_FILE,
                    f"missing: declare the AWS accounts of each class ({PRODUCTION_CLASS}: production and staging; "
                    f"{NON_PRODUCTION_CLASS}: qa, development and demo) in {ACCOUNTS_FILE} beside tenants.yaml",
                )
            ]
        )
    return parse_account_classes(load_yaml(read_text(path, "the account classes", MAX_ACCOUNTS_FILE_BYTES), path.name))


def parse_account_classes(document: Any, source: str = ACCOUNTS_FILE) -> AccountClasses:
    if not isinstance(document, YamlMapping):
        raise InvalidInput(
            [Problem(source, f"must hold a mapping with {' and '.join(CLASS_KEYS)} lists, not a {yaml_type(document)}")]
        )
    problems = duplicate_key_problems(document, source)
    problems += [
        Problem(
            source,
            f"unknown key{did_you_mean(str(key), CLASS_KEYS)}; the keys are {', '.join(CLASS_KEYS)}",
            line=document.key_lines.get(key),
            field=str(key),
        )
        for key in document
        if key not in CLASS_KEYS
    ]
    classes: dict[str, frozenset[str]] = {}
    for key in CLASS_KEYS:
        line = document.key_lines.get(key, document.line)
        accounts = document.get(key)
        if not isinstance(accounts, list):
            problems.append(
                Problem(source, "required: a list of 12-digit account ids as quoted strings", line=line, field=key)
            )
            continue
        bad = [
            account for account in accounts if not (isinstance(account, str) and ACCOUNT_ID_PATTERN.fullmatch(account))
        ]
        problems += [
            Problem(
                source,
                f"{yaml_repr(account)} is not a 12-digit account id written as a quoted string",
                line=line,
                field=key,
            )
            for account in bad
        ]
        classes[key] = frozenset(account for account in accounts if isinstance(account, str))
    if len(classes) == len(CLASS_KEYS):
        problems += [
            Problem(
                source,
                f"account {account} is in both classes; an account is production-class or not",
                line=document.key_lines.get(NON_PRODUCTION_CLASS),
                field=NON_PRODUCTION_CLASS,
            )
            for account in sorted(classes[PRODUCTION_CLASS] & classes[NON_PRODUCTION_CLASS])
        ]
    if problems:
        raise InvalidInput(problems)
    return AccountClasses(production=classes[PRODUCTION_CLASS], non_production=classes[NON_PRODUCTION_CLASS])


def required_class(settings: StackSettings) -> str:
    return PRODUCTION_CLASS if settings.production_class else NON_PRODUCTION_CLASS


def stack_account_problems(stacks: Mapping[str, StackSettings], classes: AccountClasses) -> list[Problem]:
    """Static check, before AWS is asked: every account a stack allows is of the class its environments need."""
    problems = []
    for stack, settings in stacks.items():
        needed = required_class(settings)
        for account_id in settings.allowed_account_ids:
            actual = classes.class_of(account_id)
            if actual != needed:
                problems.append(
                    Problem(
                        stack_file_name(stack),
                        f"account {account_id} is {_described(actual)} in {ACCOUNTS_FILE}, but this stack hosts "
                        f"{', '.join(e.value for e in settings.environments)}, which need a {needed} account",
                        field=ALLOWED_ACCOUNT_IDS,
                    )
                )
    return problems


def caller_problems(settings: StackSettings, classes: AccountClasses, account_id: str, arn: str) -> list[Problem]:
    """Refuse the account root, an account this stack may not use, and an account of the wrong class.

    `account_id` and `arn` are the live caller's, from `get_caller_identity`: whatever config the engine
    passed, the class check holds for the account the resources would really be created in.
    """
    source = stack_file_name(settings.stack)
    problems = []
    if _ROOT_ARN.fullmatch(arn):
        problems.append(
            Problem(source, f"refusing to deploy as the account root ({arn}); use an IAM role or user", field="caller")
        )
    if account_id not in settings.allowed_account_ids:
        problems.append(
            Problem(
                source,
                f"the credentials belong to account {account_id}, which this stack may not deploy to "
                f"(allowed: {', '.join(settings.allowed_account_ids)})",
                field=ALLOWED_ACCOUNT_IDS,
            )
        )
    needed, actual = required_class(settings), classes.class_of(account_id)
    if actual != needed:
        problems.append(
            Problem(
                ACCOUNTS_FILE,
                f"the credentials belong to account {account_id}, which is {_described(actual)}; stack "
                f"{settings.stack!r} hosts {', '.join(e.value for e in settings.environments)} and may only run "
                f"in a {needed} account",
                field=needed,
            )
        )
    return problems


def _described(account_class: str | None) -> str:
    return f"a {account_class} account" if account_class else "in neither class"
