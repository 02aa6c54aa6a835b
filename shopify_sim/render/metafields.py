"""The REST metafield (contract §8.10): also the truth's `record` and the REST routes' answer."""

from __future__ import annotations

from typing import Any

from shopify_sim.gid import gid
from shopify_sim.timeutil import iso_offset


def metafield(record: dict[str, Any], offset: int) -> dict[str, Any]:
    return {
        "id": record["id"],
        "namespace": record["namespace"],
        "key": record["key"],
        "value": record["value"],
        "description": record["description"],
        "owner_id": record["owner_id"],
        "created_at": iso_offset(record["created_at"], offset),
        "updated_at": iso_offset(record["updated_at"], offset),
        "owner_resource": record["owner_type"],
        "type": record["type"],
        "admin_graphql_api_id": gid("Metafield", record["id"]),
    }
