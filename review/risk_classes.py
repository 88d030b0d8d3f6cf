"""The risk classes `plan --base` names (what each means: review/risks.py), in the order they are reported."""

RISK_CLASSES = (
    "base-unreadable",
    "data-loss",
    "protection-removed",
    "credentials-revoked",
    "credentials-exposed",
    "newly-public",
    "permissions-widened",
    "adopted",
    "stack-removed",
    "account-changed",
    "provider-changed",
    "settings-changed",
    "tooling-changed",
)
# Shown, never failing unless asked for: what only widens a tenant's own user, or a setting proven harmless.
ADVISORY = ("permissions-widened", "settings-changed")
DEFAULT_FAIL_ON = tuple(risk for risk in RISK_CLASSES if risk not in ADVISORY)
