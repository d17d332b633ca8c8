"""Catalog data: sampler resolution, checkpoints, styles and default options."""

from __future__ import annotations

import pytest

from fakewebui import catalog
from fakewebui.errors import InvalidModelListError


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


def test_checkpoints_from_names_in_subfolders() -> None:
    nested, plain = catalog.checkpoints(["SDXL/juggernaut.v9.safetensors", "anime.ckpt"])

    assert nested.name == "SDXL/juggernaut.v9.safetensors"
    assert nested.model_name == "SDXL_juggernaut.v9"
    assert nested.name_for_extra == "juggernaut.v9"
    assert nested.title == f"SDXL/juggernaut.v9.safetensors [{nested.shorthash}]"
    assert nested.filename == f"{catalog.MODELS_DIR}/SDXL/juggernaut.v9.safetensors"
    assert plain.model_name == "anime"
    assert nested.sha256 != plain.sha256


def test_find_checkpoint_in_given_list() -> None:
    available = catalog.checkpoints(["SDXL/juggernaut.v9.safetensors"])
    (juggernaut,) = available

    for alias in ("juggernaut.v9", f"juggernaut.v9 [{juggernaut.shorthash}]", "SDXL_juggernaut.v9"):
        assert catalog.find_checkpoint(alias, available) == juggernaut
    assert catalog.find_checkpoint("sd_xl_base_1.0", available) is None


@pytest.mark.parametrize(
    "names",
    [[], ["a.safetensors", "a.safetensors"], [""], ["  "], ["/abs/a.safetensors"], "a.ckpt"],
)
def test_checkpoints_reject_bad_names(names) -> None:
    with pytest.raises(InvalidModelListError, match="Invalid model list"):
        catalog.checkpoints(names)
