"""The sync engine's scripted Shopify, for the `sync --inline` command test."""

from tests.shopsync.sync.conftest import fake_shopify_live  # noqa: F401
