"""What a deploy reads besides tenants.yaml, accounts.yaml and this program's own settings: an allowlist.

The Pulumi CLI and the AWS provider read more than the settings this program reads: the stack file's other
keys, `Pulumi.yaml`, provider settings, environment variables. Each is accepted here with the reason it is
harmless or compared by the review, or refused with the reason it is not. Whatever is not named here is
refused, so a setting nobody thought of cannot pass in silence.

Sources: the keys of stack and project files are pulumi/pulumi `sdk/go/common/workspace/project.go`
(`ProjectStack`, `Project`) and `project.json`; the project file is found as `Pulumi.json`, then
`Pulumi.yaml`, then `Pulumi.yml` (`sdk/go/common/encoding/marshal.go`, `Exts`), and a stack file takes the
project file's extension (`workspace/paths.go`, `ProjectStackPath`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tenant_storage.errors import InvalidInput, Problem, did_you_mean, quoted
from tenant_storage.yaml_reader import Mapping as YamlMapping
from tenant_storage.yaml_reader import duplicate_key_problems, load_yaml, read_text, yaml_repr

PROJECT_FILE = "Pulumi.yaml"
PROJECT_NAME = "tenant-storage"
MAX_PROJECT_FILE_BYTES = 64 * 1024

# --- Stack files (Pulumi.<stack>.yaml) -------------------------------------------------------------------
STACK_CONFIG_KEY = "config"
# Written by Pulumi for the stack's secrets (the access keys' secrets in the state are encrypted with them):
# accepted, and any change is a `credentials-exposed` risk in review (another key may decrypt them).
SECRETS_PROVIDER_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt")
REFUSED_STACK_FILE_KEYS = {
    "environment": (
        "refused: a Pulumi ESC import brings settings and environment variables (endpoints, proxies, CA bundles, "
        "credentials) from outside the repository, which no review can read; this project's deploys get their "
        "credentials from the workflows' OIDC roles, and every setting belongs in this file"
    ),
}
STACK_FILE_KEYS = (STACK_CONFIG_KEY, *SECRETS_PROVIDER_KEYS, *REFUSED_STACK_FILE_KEYS)

# --- Provider settings (aws:<name>) ------------------------------------------------------------------------
# Every other AWS provider setting is refused: they choose whose credentials sign the calls (profile,
# sharedCredentialsFiles, assumeRoles, accessKey), where the calls go or whom they trust (endpoints,
# customCaBundle, proxies, ec2MetadataServiceEndpoint), or what every resource carries (defaultTags,
# ignoreTags), and none of that shows in a plan.
REGION = "aws:region"
ALLOWED_ACCOUNT_IDS = "aws:allowedAccountIds"
ACCEPTED_PROVIDER_SETTINGS: dict[str, str] = {
    REGION: "this program reads it: where the stack's buckets are",
    ALLOWED_ACCOUNT_IDS: "this program reads it: the accounts the stack may deploy to",
    "aws:forbiddenAccountIds": "it only narrows the accounts the provider may act in",
    "aws:maxRetries": "it only sets how often a throttled or failed call is retried",
    "aws:retryMode": "it only sets how the SDK spaces its retries",
}
PROVIDER_REFUSED = (
    "refused: this provider setting can change whose credentials sign the AWS calls, where they go, whom they "
    "trust, or what every resource carries, none of which a plan shows; the deploy accepts only "
)
ENGINE_NAMESPACE = "pulumi"

# --- The project file (Pulumi.yaml) ------------------------------------------------------------------------
ACCEPTED_PROJECT_KEYS = {
    "name": f"the project's name, {PROJECT_NAME}: every URN holds it",
    "description": "text for people",
    "author": "text for people",
    "website": "text for people",
    "license": "text for people",
    "runtime": "python with the uv toolchain: the program runs in .venv, from uv.lock",
    "options": "refresh: always, which removes grants added by hand",
    "requiredPulumiVersion": "only makes an older or newer CLI refuse to run",
}
REFUSED_PROJECT_KEYS = {
    "main": "the program is __main__.py at the project's root; another entry point runs code no review planned",
    "config": (
        "project-level settings reach every stack from outside its stack file; put settings in Pulumi.<stack>.yaml"
    ),
    "stackConfigDir": "the Pulumi CLI would read stack files from another folder than the one every review reads",
    "backend": (
        "the state's backend is chosen by each job's login (PULUMI_BACKEND_URL); one written here would move "
        "every stack to another state"
    ),
    "template": "only `pulumi new` reads it; this project is not a template",
    "packages": "generates and loads SDKs that no review has read",
    "plugins": "loads provider, language or policy plugins from local paths instead of the released ones",
}
REQUIRED_RUNTIME = {"name": "python", "options": {"toolchain": "uv"}}
REQUIRED_OPTIONS = {"refresh": "always"}
# A project or stack file in another format: the CLI reads Pulumi.json before Pulumi.yaml.
OTHER_PULUMI_FILE = re.compile(r"Pulumi(\.[^/]*)?\.(json|yml)")

# --- The deploy's environment ----------------------------------------------------------------------------
# Variables that send the AWS calls elsewhere or change whom they trust, the twins of the refused provider
# settings (aws-sdk-go-v2 reads AWS_ENDPOINT_URL_<SERVICE> and AWS_CA_BUNDLE; Go's net/http the proxies; Go's
# crypto/x509 SSL_CERT_FILE and SSL_CERT_DIR). Matched without regard to case, as the SDKs read both.
REFUSED_ENVIRONMENT = re.compile(
    r"AWS_ENDPOINT_URL(_\w+)?|AWS_CA_BUNDLE|SSL_CERT_FILE|SSL_CERT_DIR|HTTPS?_PROXY|ALL_PROXY", re.IGNORECASE
)


def stack_file_key_problem(key: object) -> str | None:
    """Why a stack file's top-level `key` is refused (None: accepted)."""
    if key in REFUSED_STACK_FILE_KEYS:
        return REFUSED_STACK_FILE_KEYS[str(key)]
    if key in STACK_FILE_KEYS:
        return None
    shown = quoted(key) if isinstance(key, str) else yaml_repr(key)
    return (
        f"Pulumi reads no stack-file key {shown}{did_you_mean(str(key), STACK_FILE_KEYS)}; a stack file holds "
        f"{STACK_CONFIG_KEY}: and the keys Pulumi writes for secrets ({', '.join(SECRETS_PROVIDER_KEYS)})"
    )


def provider_setting_problem(key: str, provider_keys: tuple[str, ...]) -> str | None:
    """Why the AWS provider setting `key` (aws:<name>) is refused (None: accepted). `provider_keys` are the
    installed provider's own setting names, to name a misspelling."""
    if key in ACCEPTED_PROVIDER_SETTINGS:
        return None
    name = key.partition(":")[2]
    accepted = ", ".join(ACCEPTED_PROVIDER_SETTINGS)
    if provider_keys and name not in provider_keys:
        return (
            f"the AWS provider has no setting {quoted(name)}{did_you_mean(name, provider_keys)}; accepted: {accepted}"
        )
    return PROVIDER_REFUSED + accepted


def engine_setting_problem(key: str) -> str:
    return (
        f"refused: the engine setting {quoted(key)} changes how every resource is named or provided, which no "
        "plan of this project shows"
    )


def project_file_problems(project_dir: Path) -> list[Problem]:
    """Pulumi.yaml against what the deploy's safety relies on, and no project or stack file the CLI would read
    instead of the ones every review reads."""
    problems = [
        Problem(
            path.name,
            f"the Pulumi CLI would read this file (it reads Pulumi.json before {PROJECT_FILE}, and stack files in the "
            f"project file's format), but every review reads {PROJECT_FILE} and Pulumi.<stack>.yaml: remove it",
        )
        for path in sorted(project_dir.glob("Pulumi*"))
        if OTHER_PULUMI_FILE.fullmatch(path.name)
    ]
    try:
        document = load_yaml(
            read_text(project_dir / PROJECT_FILE, "the project file", MAX_PROJECT_FILE_BYTES), PROJECT_FILE
        )
    except InvalidInput as error:
        return [*problems, *error.problems]
    if not isinstance(document, YamlMapping):
        return [*problems, Problem(PROJECT_FILE, "must hold a mapping: name, runtime and options")]
    problems += duplicate_key_problems(document, PROJECT_FILE)
    lines = document.key_lines

    def problem(key: str, message: str) -> None:
        problems.append(Problem(PROJECT_FILE, message, line=lines.get(key), field=key))

    for key in document:
        if key in REFUSED_PROJECT_KEYS:
            problem(str(key), f"refused: {REFUSED_PROJECT_KEYS[str(key)]}")
        elif key not in ACCEPTED_PROJECT_KEYS:
            known = (*ACCEPTED_PROJECT_KEYS, *REFUSED_PROJECT_KEYS)
            problem(str(key), f"Pulumi reads no project key {yaml_repr(key)}{did_you_mean(str(key), known)}")
    if document.get("name") != PROJECT_NAME:
        problem(
            "name",
            f"must be {PROJECT_NAME}, not {yaml_repr(document.get('name'))}: every resource's URN holds the project's "
            "name, so another name replaces every resource",
        )
    if _plain(document.get("runtime")) != REQUIRED_RUNTIME:
        problem(
            "runtime",
            "must be python with the uv toolchain (name: python, options: {toolchain: uv}) and nothing else: the "
            f"program then runs in .venv, built from uv.lock; it says {_flow(document.get('runtime'))}",
        )
    if _plain(document.get("options")) != REQUIRED_OPTIONS:
        problem(
            "options",
            "must be exactly refresh: always: every preview and update then starts from what is live, so grants added "
            f"by hand are seen and removed; it says {_flow(document.get('options'))}",
        )
    return problems


def _flow(value: Any) -> str:
    """A value as YAML writes it on one line: {refresh: never}."""
    return str(yaml.safe_dump(_plain(value), default_flow_style=True, width=10**6)).strip().removesuffix("...").strip()


def _plain(value: Any) -> Any:
    """A YAML value as plain dicts and lists, for comparison."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def environment_problems(environment: Mapping[str, str]) -> list[Problem]:
    """Variables in the deploy's environment that would send AWS calls elsewhere or change whom they trust."""
    return [
        Problem(
            f"environment variable {name}",
            "refused: it can send the AWS calls elsewhere or change which certificates they trust, and the account "
            f"split rests on asking the real AWS STS who the caller is; unset it for the deploy (env -u {name} ...)",
        )
        for name, value in sorted(environment.items())
        if value and REFUSED_ENVIRONMENT.fullmatch(name)
    ]
