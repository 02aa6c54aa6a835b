from django.apps import AppConfig


class ShopsyncConfig(AppConfig):
    name = "shopsync"
    verbose_name = "Shopify sync"
