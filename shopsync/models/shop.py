from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import models

from shopsync.domains import validate_shop_domain
from shopsync.fields import EncryptedTextField
from shopsync.models.base import BaseModel


class Shop(BaseModel):
    class Status(models.TextChoices):
        INSTALLED = "installed", "Installed"
        UNINSTALLED = "uninstalled", "Uninstalled"

    domain = models.CharField(max_length=255, unique=True, validators=[validate_shop_domain])
    name = models.CharField(max_length=255, blank=True)
    # Empty means the real Shopify host (https://{domain}); set it to point a shop at the simulator.
    api_base_url = models.URLField(blank=True)
    api_version = models.CharField(max_length=16, default="2026-01")
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=512, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INSTALLED)
    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    # Orders created before this instant (the first initial sync's start) are historical.
    cutover_at = models.DateTimeField(null=True, blank=True)
    # Metafield namespaces mirrored (contract §8.10), sorted; none by default. Set only through
    # `shop_metafield_namespaces_set`, which validates them and updates the webhook subscriptions.
    metafield_namespaces = models.JSONField(default=list, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="shops", blank=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_installed(self) -> bool:
        return self.status == self.Status.INSTALLED

    @property
    def base_url(self) -> str:
        return (self.api_base_url or f"https://{self.domain}").rstrip("/")

    @property
    def admin_api_url(self) -> str:
        return f"{self.base_url}/admin/api/{self.api_version}"

    @property
    def granted_scopes(self) -> set[str]:
        return {scope.strip() for scope in self.scopes.split(",") if scope.strip()}

    @property
    def has_all_orders_scope(self) -> bool:
        return "read_all_orders" in self.granted_scopes

    def missing_scopes(self, required: Sequence[Sequence[str]]) -> list[str]:
        """The first scope of each group (any one of a group will do) the shop has not granted. A shop
        whose scopes are not recorded (blank) is taken to have them: Shopify's answer decides."""
        granted = self.granted_scopes
        if not granted:
            return []
        return [group[0] for group in required if not granted.intersection(group)]
