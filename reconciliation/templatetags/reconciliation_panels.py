"""The reconciliation and health cards of shopsync's settings page.

shopsync sits below reconciliation and never imports it (R17); its settings template loads this
library instead, so the page shows what reconciliation knows without the view asking for it."""

from __future__ import annotations

from django import template

from reconciliation.models import ReconciliationReport, SyncHealthMetric
from reconciliation.selectors import health_metrics_latest, reconciliation_reports_recent
from shopsync.models import Shop

register = template.Library()


@register.inclusion_tag("reconciliation/shop_panels.html")
def reconciliation_shop_panels(shop: Shop) -> dict[str, list[ReconciliationReport] | list[SyncHealthMetric]]:
    return {
        "reports": reconciliation_reports_recent(shop=shop),
        "health_metrics": health_metrics_latest(shops=[shop]).get(shop.pk, []),
    }
