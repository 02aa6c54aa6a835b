from __future__ import annotations


class SyncInputError(ValueError):
    """A sync request that cannot run as asked (unknown mode or resource, bad days, ...)."""


class SyncStopped(Exception):
    """The run must stop now: the session was cancelled or cleared, the shop uninstalled, or another
    worker took the session over (our fencing token no longer matches)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
