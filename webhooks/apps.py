from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Shopify webhooks"

    def ready(self) -> None:
        # shopsync sits below webhooks and never imports it (R17, pyproject.toml's import contracts):
        # webhooks plugs into its two extension points here instead. A connected shop gets its webhook
        # subscriptions, and a dead-lettered delivery is retried by running it again.
        from shopsync.models import FailedSyncItem
        from shopsync.services.dead_letter_retries import dead_letter_retrier_register
        from shopsync.services.install import install_webhooks_registrar_add
        from webhooks.services.dead_letters import webhook_dead_letter_retry
        from webhooks.services.registration import webhook_subscriptions_register

        dead_letter_retrier_register(
            entity_type=FailedSyncItem.EntityType.WEBHOOK, retrier=webhook_dead_letter_retry
        )
        install_webhooks_registrar_add(registrar=webhook_subscriptions_register)
