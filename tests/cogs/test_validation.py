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


MODELS = (
    "anime.safetensors",
    "SDXL/juggernaut.v9.safetensors",
    "SD15/juggernaut.v9.safetensors",
    "sd_xl_base_1.0.safetensors",
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("anime.safetensors", "anime.safetensors"),
        ("  ANIME.safetensors ", "anime.safetensors"),
        ("anime", "anime.safetensors"),
        ("anime.safetensors [0a1b2c3d4e]", "anime.safetensors"),
        ("SDXL/juggernaut.v9.safetensors", "SDXL/juggernaut.v9.safetensors"),
        ("sd_xl_base_1.0", "sd_xl_base_1.0.safetensors"),
    ],
)
def test_validate_model_resolves_to_listed_name(typed: str, expected: str) -> None:
    options = ImagineOptions(prompt="a fox", model=typed)

    params = validate(options, LimitsSettings(), SAMPLERS, MODELS)

    assert params.model == expected
    assert params.required_model == expected


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_validate_model_left_out(typed: str | None) -> None:
    options = ImagineOptions(prompt="a fox", model=typed)

    params = validate(options, LimitsSettings(), SAMPLERS, MODELS)

    assert params.model is None


def test_validate_model_ambiguous_short_name() -> None:
    options = ImagineOptions(prompt="a fox", model="juggernaut.v9")

    with pytest.raises(InvalidOptionError) as rejected:
        validate(options, LimitsSettings(), SAMPLERS, MODELS)

    assert rejected.value.option == "model"
    assert str(rejected.value) == (
        "The model 'juggernaut.v9' matches 'SDXL/juggernaut.v9.safetensors' and "
        "'SD15/juggernaut.v9.safetensors': choose one by its full name."
    )


def test_validate_model_unknown_lists_available() -> None:
    options = ImagineOptions(prompt="a fox", model="pony.safetensors")

    with pytest.raises(InvalidOptionError) as rejected:
        validate(options, LimitsSettings(), SAMPLERS, MODELS)

    assert rejected.value.value == "pony.safetensors"
    assert str(rejected.value) == (
        "Unknown model 'pony.safetensors'. Choose one of: anime.safetensors, "
        "SDXL/juggernaut.v9.safetensors, SD15/juggernaut.v9.safetensors, "
        "sd_xl_base_1.0.safetensors."
    )


def test_validate_model_unknown_among_many() -> None:
    models = [f"model-{index:02d}.safetensors" for index in range(40)]
    options = ImagineOptions(prompt="a fox", model="pony")

    with pytest.raises(InvalidOptionError) as rejected:
        validate(options, LimitsSettings(), SAMPLERS, models)

    message = str(rejected.value)
    assert "model-09.safetensors and 30 more, which the model option suggests as you type." in (
        message
    )
    assert "model-10.safetensors" not in message


def test_validate_model_before_backends_listed() -> None:
    options = ImagineOptions(prompt="a fox", model="anime")

    with pytest.raises(InvalidOptionError) as rejected:
        validate(options, LimitsSettings(), SAMPLERS, ())

    assert str(rejected.value) == (
        "Unknown model 'anime': no image server has listed its models yet. Leave the model "
        "empty, or try again in a minute."
    )
