"""`manage.py connect_shop --shop DOMAIN --api-url URL --token TOKEN [--api-version V]`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shopsync.api_versions import SUPPORTED_API_VERSION_MIN
from shopsync.services.sync.connect import shop_connect


class Command(BaseCommand):
    help = "Register a shop with an existing Admin API access token (e.g. a custom app, or the simulator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, help="NAME.myshopify.com")
        parser.add_argument(
            "--api-url", required=True, help="Base URL of the Admin API host, e.g. http://127.0.0.1:8001"
        )
        parser.add_argument("--token", required=True, help="Admin API access token")
        parser.add_argument(
            "--api-version",
            default=None,
            help=f"{SUPPORTED_API_VERSION_MIN} or newer (default for new shops: {settings.SHOPIFY_API_VERSION})",
        )
        parser.add_argument(
            "--scopes",
            default=None,
            help=f"granted scopes (default for new shops: {settings.SHOPIFY_SCOPES})",
        )

    def handle(self, *args, **options) -> None:
        scopes = options["scopes"]
        try:
            shop, created = shop_connect(
                domain=options["shop"],
                api_url=options["api_url"],
                token=options["token"],
                api_version=options["api_version"] or None,
                scopes=scopes,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        verb = "Registered" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {shop.domain} (id {shop.pk}, API {shop.admin_api_url}).")
        )
