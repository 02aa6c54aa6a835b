"""`manage.py reconcile --shop DOMAIN [--heal] [--resource orders]`: run a reconciliation now and
print its reports."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reconciliation.models import ReconciliationReport, ResourceName
from reconciliation.services.reconcile import reconciliation_run
from shopsync.domains import normalize_shop_domain
from shopsync.models import Shop


class Command(BaseCommand):
    help = (
        "Compare a shop's orders, customers and products with Shopify's, optionally healing the differences."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, help="The shop's myshopify.com domain.")
        parser.add_argument(
            "--heal", action="store_true", help="Re-fetch missing/stale records, soft-delete extras."
        )
        parser.add_argument(
            "--resource", action="append", choices=ResourceName.values, help="Repeatable; default all."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(domain=normalize_shop_domain(options["shop"])).first()
        if shop is None:
            raise CommandError(f"No shop {options['shop']!r}.")
        reports = reconciliation_run(
            shop=shop,
            heal=options["heal"],
            resources=options["resource"],
            triggered_by=ReconciliationReport.Trigger.CLI,
        )
        for report in reports:
            self.stdout.write(self._describe(report))
        if any(report.status == ReconciliationReport.Status.FAILED for report in reports):
            raise CommandError("At least one reconciliation failed to run (see its error above).")

    def _describe(self, report: ReconciliationReport) -> str:
        style = {
            ReconciliationReport.Status.OK: self.style.SUCCESS,
            ReconciliationReport.Status.WARNING: self.style.WARNING,
        }.get(report.status, self.style.ERROR)
        lines = [
            style(f"{report.resource}: {report.status.upper()}")
            + f"  Shopify {report.shopify_count}, ours {report.local_count}, "
            f"missing {report.missing_count}, extra {report.extra_count}, stale {report.stale_count}"
        ]
        for kind in ("missing", "extra", "stale"):
            ids = getattr(report, f"{kind}_ids")
            if ids:
                more = getattr(report, f"{kind}_count") - len(ids)
                lines.append(
                    f"  {kind}: {', '.join(map(str, ids))}" + (f" (+{more} more)" if more > 0 else "")
                )
        if report.heal_result:
            lines.append(f"  healed: {report.heal_result}")
        if report.error:
            lines.append(f"  error: {report.error}")
        return "\n".join(lines)
