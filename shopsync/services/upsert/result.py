from __future__ import annotations

import enum
from dataclasses import dataclass, fields


class UpsertMode(enum.StrEnum):
    # Insert new records; update an existing one only if the stored version is not newer (ties win).
    LATEST_WINS = "latest_wins"
    # Insert new records; leave every existing record alone (initial sync into a live table).
    POPULATE = "populate"


@dataclass(slots=True)
class UpsertResult:
    """What one write did, per top-level record (children are not counted).

    created / updated: rows inserted / changed. skipped_stale: the stored row is newer, or is a
    tombstone the payload may not revive. unchanged: the stored row already held exactly this version
    (a replay). skipped_existing: POPULATE mode left an existing row alone.
    """

    created: int = 0
    updated: int = 0
    skipped_stale: int = 0
    unchanged: int = 0
    skipped_existing: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        if not isinstance(other, UpsertResult):
            return NotImplemented
        return UpsertResult(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def written(self) -> int:
        return self.created + self.updated

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))
