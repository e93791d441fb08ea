"""The lifecycle rules written onto an S3 bucket, so that S3 itself moves and expires objects
(`shutterbox lifecycle apply`). Only what a key prefix can express goes there; rules that
depend on a row (the trash, failed uploads) stay with the lifecycle pass."""

from __future__ import annotations

import math
from typing import Any

from shutterbox.adapters.blobs import S3StorageTiers
from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.storage import StorageClass
from shutterbox.services.context import Services

RULE_PREFIX = "shutterbox"


def _bucket(services: Services) -> S3StorageTiers:
    if not isinstance(services.tiers, S3StorageTiers):
        raise InvalidInput(
            "lifecycle apply writes an S3 bucket's lifecycle configuration; this store has "
            "none (the lifecycle pass, `shutterbox lifecycle run`, applies the rules here)"
        )
    return services.tiers


def _rule_id(tiers: S3StorageTiers, name: str) -> str:
    scope = tiers.prefix.replace("/", "-") or "bucket"
    return f"{RULE_PREFIX}-{scope}-{name}"


def desired_rules(services: Services) -> list[dict[str, Any]]:
    tiers = _bucket(services)
    settings = services.settings
    rules: list[dict[str, Any]] = []
    if settings.transitions:
        rules.append(
            {
                "ID": _rule_id(tiers, "originals"),
                "Filter": {"Prefix": tiers.object_key("originals/")},
                "Status": "Enabled",
                "Transitions": [
                    {"Days": max(1, math.ceil(days)), "StorageClass": storage_class.value}
                    for storage_class, days in settings.transitions
                ],
            }
        )
    unfinished = settings.direct_upload_expiry_seconds + settings.direct_upload_grace_seconds
    rules.append(
        {
            "ID": _rule_id(tiers, "incoming"),
            "Filter": {"Prefix": tiers.object_key("incoming/")},
            "Status": "Enabled",
            "Expiration": {"Days": max(1, math.ceil(unfinished / 86400))},
        }
    )
    rules.append(
        {
            "ID": _rule_id(tiers, "multipart"),
            "Filter": {"Prefix": tiers.object_key("")},
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    )
    return rules


async def apply(services: Services) -> list[dict[str, Any]]:
    """Write our rules onto the bucket, keeping any rules others wrote; returns what the
    bucket holds afterwards (read back)."""
    tiers = _bucket(services)
    ours = desired_rules(services)
    ids = {rule["ID"] for rule in ours}
    others = [rule for rule in await tiers.get_lifecycle() if rule.get("ID") not in ids]
    await tiers.put_lifecycle([*others, *ours])
    return await tiers.get_lifecycle()


async def applied_transitions(services: Services) -> dict[StorageClass, float]:
    """Transitions of originals the bucket applies by itself (class → days); empty when the
    store is not S3 or our rule is not there."""
    if not isinstance(services.tiers, S3StorageTiers):
        return {}
    wanted = _rule_id(services.tiers, "originals")
    for rule in await services.tiers.get_lifecycle():
        if rule.get("ID") == wanted and rule.get("Status") == "Enabled":
            return {
                StorageClass(t["StorageClass"]): float(t["Days"])
                for t in rule.get("Transitions", [])
            }
    return {}
