"""The write-path and sync benchmarks' catalogue scale (`bench/writepath/generate.py`): the
simulator's options for a catalogue, and a store without catalogue options made as before."""

from __future__ import annotations

import argparse

import pytest

from bench.writepath import generate


def test_a_store_without_catalogue_options_is_the_store_made_before_them():
    # when
    options = generate.store_options(200_000)

    # then: the same options (so the same file names for exports already made)
    assert options == {"orders": 200_000, "customers": 25_000, "products": 2000, "seed": 42,
                       "anchor": "2026-11-01T00:00:00Z", "plan": "plus"}  # fmt: skip


def test_the_catalogue_scale_becomes_the_simulator_options():
    # given
    catalogue = generate.Catalogue(products=20_000, variants_per_product=5, locations=4)

    # when
    options = generate.store_options(1_000_000, catalogue)

    # then
    assert options["products"] == 20_000
    assert options["variants_max"] == 11
    assert options["locations"] == 4


@pytest.mark.parametrize(
    ("mean", "variants_max"), [(3.8, 8), (4.85, 11), (5, 11), (5.2, 12), (1, 2), (36, 100)]
)
def test_variants_max_is_the_one_whose_mean_is_nearest(mean, variants_max):
    assert generate.variants_max_for_mean(mean) == variants_max


def test_the_simulated_mean_counts_single_variant_products():
    # 30 % with one variant, the rest 2..8 evenly (mean 5)
    assert generate.simulated_variants_mean(8) == pytest.approx(0.3 + 0.7 * 5)


def test_the_command_line_gives_the_catalogue():
    # given
    parser = argparse.ArgumentParser()
    generate.add_catalogue_arguments(parser)

    # when
    args = parser.parse_args(["--products", "20000", "--variants-per-product", "5", "--locations", "4",
                              "--metafield-namespaces", "erp,custom"])  # fmt: skip

    # then
    assert generate.catalogue_from(args) == generate.Catalogue(
        products=20_000, variants_per_product=5, locations=4, metafield_namespaces=("custom", "erp")
    )
