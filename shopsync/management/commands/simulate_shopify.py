"""`manage.py simulate_shopify ...`: the Shopify simulator, same options as `python -m shopify_sim`."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shopify_sim.cli import build_parser, serve


class Command(BaseCommand):
    help = "Run the local Shopify Admin API simulator (see shopify_sim/README.md)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        build_parser(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        namespace = argparse.Namespace(**options)
        serve(namespace)
