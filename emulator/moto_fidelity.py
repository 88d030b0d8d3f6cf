"""What moto 5.2.5 drops of what the replay applies, and AWS keeps: made to keep it, in this process only.

moto's CloudFront models (`moto/cloudfront/models.py`) build a distribution's origin without its
`S3OriginConfig` and `OriginAccessControlId`, and its default cache behaviour with `FunctionAssociations`
hard-coded to none. A distribution read back from moto would then have no origin access control and no
function: the replay could not prove what it applied, `audit` against the sandbox would report a drift that
is moto's, and Prowler would judge an origin without a protocol. The replay calls `keep_what_aws_keeps()`
before it applies anything, so every emulator it fills in this process (the tests', the sandbox's, the
security scan's) keeps them. It changes nothing else; tests/test_replay.py reads both back, so a moto that
changes these models fails there, never in silence.
"""

from __future__ import annotations

from typing import Any

_APPLIED = "_tenant_storage_keeps_what_aws_keeps"


def keep_what_aws_keeps() -> None:
    from moto.cloudfront import models

    if getattr(models.Origin, _APPLIED, False):
        return
    origin_init, behaviour_init = models.Origin.__init__, models.DefaultCacheBehaviour.__init__

    def origin(self: Any, config: dict[str, Any]) -> None:
        origin_init(self, config)
        if "S3OriginConfig" in config:
            self.s3_origin_config = config["S3OriginConfig"]
        self.origin_access_control_id = config.get("OriginAccessControlId") or ""

    def behaviour(self: Any, config: dict[str, Any]) -> None:
        behaviour_init(self, config)
        self.function_associations = config.get("FunctionAssociations") or {"Quantity": 0}

    models.Origin.__init__ = origin  # type: ignore[method-assign,assignment]
    models.DefaultCacheBehaviour.__init__ = behaviour  # type: ignore[method-assign]
    setattr(models.Origin, _APPLIED, True)
