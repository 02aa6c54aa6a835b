"""The simulator's command line gives a shop's generator options (`shopify_sim/cli.py`)."""

from __future__ import annotations

from shopify_sim.cli import build_parser, shop_options


def test_the_variants_per_product_bound_comes_from_the_command_line():
    # when
    options = shop_options(build_parser().parse_args(["--variants-max", "11", "--locations", "4"]))

    # then
    assert (options.variants_max, options.locations) == (11, 4)


def test_without_it_a_shop_keeps_the_default_bound():
    # when
    options = shop_options(build_parser().parse_args([]))

    # then
    assert options.variants_max == 8
