"""Run on a host of the fleet (`ip netns exec HOST python -m tests.fleet.probe SHOP SIMULATOR_URL`):
prints, as JSON, the mirror of SHOP compared with the simulator's truth, resource by resource, with
the oracle the convergence tests use (every field, children included)."""

from __future__ import annotations

import json
import sys

import django

django.setup()

from shopify_sim.testing import ControlClient  # noqa: E402
from shopsync.models import Shop  # noqa: E402
from tests.convergence.mirror import RESOURCES, mirror_compare  # noqa: E402


def main(shop_domain: str, simulator_url: str) -> None:
    shop = Shop.objects.get(domain=shop_domain)
    control = ControlClient(simulator_url, shop_domain)
    report = {}
    for resource in RESOURCES:
        comparison = mirror_compare(control, shop=shop, resource=resource)
        report[resource] = {
            "exact": comparison.is_exact,
            "truth_live": comparison.truth_live,
            "ours_live": comparison.ours_live,
            "summary": comparison.summary(),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
