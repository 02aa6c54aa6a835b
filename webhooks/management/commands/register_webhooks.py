from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from shopsync.domains import normalize_shop_domain
from shopsync.models import Shop
from webhooks.services.registration import webhook_subscriptions_register


class Command(BaseCommand):
    help = "(Re)register a shop's webhook subscriptions with Shopify, pointing at our receiver."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, help="the shop's domain, NAME.myshopify.com")
        parser.add_argument(
            "--callback-url",
            help="the receiver's public URL (default: SHOPIFY_APP_URL + the receiver's path)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(domain=normalize_shop_domain(options["shop"])).first()
        if shop is None:
            raise CommandError(f"no shop {options['shop']!r}")
        callback_url = options["callback_url"] or (
            settings.SHOPIFY_APP_URL.rstrip("/") + reverse("webhooks-shopify-receive")
        )
        for result in webhook_subscriptions_register(shop=shop, callback_url=callback_url):
            self.stdout.write(f"{result.topic:<24} {result.action.value:<9} {result.subscription_id}")
