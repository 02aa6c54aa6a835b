"""Locations and the inventory levels at each (contract §8.9, §8.13, §8.14).

A level belongs to its location (`Location.inventoryLevels`, a connection: one JSONL line per level
with `__parentId` = the location in a bulk export, its own pages in a paged query; §8.13's
`locations(includeInactive: true, includeLegacy: true) { inventoryLevels { quantities } }` is the
locations' own bulk export). Its key is (location, inventory item): `unique_per_parent=True`, the
item's id as the child's `shopify_id`, never the level's composite GID (§8.1).

What we rely on, and what we do not:
- A level has a clock of its own (`InventoryLevel.updatedAt`, the webhook's `updated_at`), and its
  quantities change without moving the location's `updatedAt`: last write wins per level
  (`Ordering.UPDATED_AT` on the child), whoever brings it (a read of the location, or the level's
  webhook, in any order).
- `locations` has no `updated_at` search filter (§8.12), and level changes do not move locations:
  every incremental, update and full run reads every location with all its levels
  (`windowed=False`); a level the read no longer lists (disconnected) is removed with it.
- `inventory_levels/update|connect` bodies carry `available` only (null when the item is not
  tracked): they are upserted under their stored location, in batches, keeping the other
  quantities; a level whose location is not stored yet is not lost: the location is fetched by id,
  with every level it has now. `inventory_levels/disconnect` removes the level.
- Deactivated locations stay (`includeInactive: true`); `locations/delete` {id} is a tombstone.
"""

from __future__ import annotations

from shopsync.models import InventoryLevel, Location
from shopsync.payloads.inventory import (
    INVENTORY_LEVEL,
    INVENTORY_LEVEL_FIELDS,
    INVENTORY_LEVEL_LINE,
    LEVEL_KEPT_WHEN_ABSENT,
    LOCATION,
    LOCATION_FIELDS,
    InventoryLevelRecord,
    LocationRecord,
    inventory_level_record,
    location_record,
    parse_inventory_level_rest,
    parse_location_rest,
)
from shopsync.resources.base import (
    ChildDeclaration,
    Ordering,
    ResourceDeclaration,
    TopicAction,
    WebhookTopic,
)

LEVELS = ChildDeclaration(
    name="levels",
    label="inventory level",
    model=InventoryLevel,
    record_type=InventoryLevelRecord,
    parent_column="location_id",
    graphql_field="inventoryLevels",
    graphql_type="InventoryLevel",
    graphql_fields=INVENTORY_LEVEL_FIELDS,
    is_connection=True,
    build=inventory_level_record,
    node_adapter=INVENTORY_LEVEL,
    bulk_line_adapter=INVENTORY_LEVEL_LINE,
    first_page=50,
    parse_rest=parse_inventory_level_rest,
    rest_parent_key="location_id",
    rest_id_key="inventory_item_id",
    topics=(
        WebhookTopic("inventory_levels/update", "INVENTORY_LEVELS_UPDATE", TopicAction.CHILD_UPSERT),
        WebhookTopic("inventory_levels/connect", "INVENTORY_LEVELS_CONNECT", TopicAction.CHILD_UPSERT),
        WebhookTopic("inventory_levels/disconnect", "INVENTORY_LEVELS_DISCONNECT", TopicAction.CHILD_DELETE),
    ),
    ordering=Ordering.UPDATED_AT,
    kept_when_absent=LEVEL_KEPT_WHEN_ABSENT,
    deletion="inventory_levels/disconnect; absent from the location's next read",
    reconciled=True,
    key_field="item",
    unique_per_parent=True,
)

LOCATIONS = ResourceDeclaration(
    name="locations",
    singular="location",
    graphql_type="Location",
    model=Location,
    record_type=LocationRecord,
    graphql_fields=LOCATION_FIELDS,
    node_adapter=LOCATION,
    build=location_record,
    parse_rest=parse_location_rest,
    children=(LEVELS,),
    topics=(
        WebhookTopic("locations/create", "LOCATIONS_CREATE", TopicAction.UPSERT),
        WebhookTopic("locations/update", "LOCATIONS_UPDATE", TopicAction.UPSERT),
        WebhookTopic("locations/activate", "LOCATIONS_ACTIVATE", TopicAction.UPSERT),
        WebhookTopic("locations/deactivate", "LOCATIONS_DEACTIVATE", TopicAction.UPSERT),
        WebhookTopic("locations/delete", "LOCATIONS_DELETE", TopicAction.DELETE),
    ),
    deletion="locations/delete {id}; absent from a full sync.",
    root_arguments="includeInactive: true, includeLegacy: true",
    page_sort_key="ID",
    windowed=False,
    count_uncapped=False,
    # Locations: read_locations (2024-10 also accepts read_inventory or read_markets_home); their
    # levels: read_inventory.
    required_scopes=(("read_locations", "read_inventory", "read_markets_home"), ("read_inventory",)),
    # Requested cost per page on the simulator: 2 + 10 x (3 + 2 + 50 levels x 3) ~ 1000 at most;
    # `query_cost.page_size` computes the fit.
    page_size=10,
    ids_per_query=10,
)
