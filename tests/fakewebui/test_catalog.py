"""Catalog data: sampler resolution, checkpoints, styles and default options."""

from __future__ import annotations

import pytest

from fakewebui import catalog


@pytest.mark.parametrize(
    ("sampler", "scheduler", "expected"),
    [
        ("Euler a", None, ("Euler a", "Automatic")),
        (None, None, ("DPM++ 2M", "Automatic")),
        ("DPM++ 2M Karras", None, ("DPM++ 2M", "Automatic")),
        ("DPM++ 2M", "exponential", ("DPM++ 2M", "Exponential")),
        ("Euler", "Karras", ("Euler", "Karras")),
        ("Euler", "bogus", ("Euler", "Automatic")),
        ("DPM++ SDE Exponential", None, ("DPM++ SDE", "Exponential")),
        ("k_euler_a", None, ("DPM++ 2M", "Automatic")),
        ("Nonexistent", None, ("DPM++ 2M", "Automatic")),
    ],
)
def test_resolve_sampler_like_a1111(sampler, scheduler, expected) -> None:
    assert catalog.resolve_sampler(sampler, scheduler) == expected


def test_find_checkpoint_aliases() -> None:
    first = catalog.checkpoints()[0]

    for alias in (first.title, first.name, first.model_name, first.shorthash, first.sha256):
        assert catalog.find_checkpoint(alias) == first
    assert catalog.find_checkpoint("missing") is None


def test_default_options_select_first_checkpoint() -> None:
    options = catalog.default_options()

    assert options["sd_model_checkpoint"] == catalog.checkpoints()[0].title
    assert options["return_grid"] is True
    assert options["live_previews_enable"] is True


def test_catalog_list_returns_copies() -> None:
    samplers = catalog.catalog_list("samplers")
    samplers.clear()

    assert catalog.catalog_list("samplers")


def test_apply_styles_wraps_and_appends() -> None:
    prompt, negative = catalog.apply_styles("a fox", "", ["watercolor", "cinematic", "nope"])

    assert prompt == (
        "watercolor painting of a fox, soft edges, cinematic still, shallow depth of field, "
        "film grain"
    )
    assert negative == "photo, 3d render, cartoon, illustration"
