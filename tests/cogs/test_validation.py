"""Checking /imagine options: invisible characters in prompts and the default sampler."""

from __future__ import annotations

import pytest

from cogs.validation import ImagineOptions, InvalidOptionError, validate
from settings import LimitsSettings

SAMPLERS = ("DPM++ 2M", "Euler a", "Euler")


@pytest.mark.parametrize(
    "character",
    [
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
    ],
)
def test_validate_strips_invisible_character(character: str) -> None:
    options = ImagineOptions(prompt=f"a{character} red fox{character}")

    params = validate(options, LimitsSettings(), SAMPLERS)

    assert params.prompt == "a red fox"


def test_validate_prompt_only_invisible_is_empty() -> None:
    options = ImagineOptions(prompt="\u200b\u202e \u2066\ufeff\u2069")

    with pytest.raises(InvalidOptionError) as caught:
        validate(options, LimitsSettings(), SAMPLERS)

    assert caught.value.option == "prompt"
    assert "The prompt is empty" in str(caught.value)


def test_validate_strips_invisible_from_negative_prompt() -> None:
    options = ImagineOptions(prompt="a fox", negative_prompt="\u202eblurry\u202c")

    params = validate(options, LimitsSettings(), SAMPLERS)

    assert params.negative_prompt == "blurry"


def test_validate_keeps_visible_unicode() -> None:
    options = ImagineOptions(prompt="renard roux, 狐狸, \u05e9\u05d5\u05e2\u05dc")

    params = validate(options, LimitsSettings(), SAMPLERS)

    assert params.prompt == "renard roux, 狐狸, \u05e9\u05d5\u05e2\u05dc"


def test_validate_length_counts_visible_characters() -> None:
    options = ImagineOptions(prompt="a" * 10 + "\u200b" * 50)

    params = validate(options, LimitsSettings(prompt_max_chars=10), SAMPLERS)

    assert params.prompt == "a" * 10


def test_validate_default_sampler_offered() -> None:
    params = validate(ImagineOptions(prompt="a fox"), LimitsSettings(), SAMPLERS)

    assert params.sampler == "Euler a"


def test_validate_default_sampler_matches_case() -> None:
    limits = LimitsSettings(default_sampler="euler A")

    params = validate(ImagineOptions(prompt="a fox"), limits, SAMPLERS)

    assert params.sampler == "Euler a"


def test_validate_default_sampler_not_offered() -> None:
    limits = LimitsSettings(default_sampler="Karras Special")

    params = validate(ImagineOptions(prompt="a fox"), limits, SAMPLERS)

    assert params.sampler == "DPM++ 2M"


def test_validate_default_sampler_without_list() -> None:
    limits = LimitsSettings(default_sampler="Karras Special")

    params = validate(ImagineOptions(prompt="a fox"), limits, ())

    assert params.sampler == "Karras Special"


def test_validate_unknown_chosen_sampler_rejected() -> None:
    options = ImagineOptions(prompt="a fox", sampler="Karras Special")

    with pytest.raises(InvalidOptionError) as caught:
        validate(options, LimitsSettings(default_sampler="Karras Special"), SAMPLERS)

    assert caught.value.option == "sampler"
    assert "Unknown sampler 'Karras Special'" in str(caught.value)
