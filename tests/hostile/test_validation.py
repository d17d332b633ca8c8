"""/imagine validation under hostile options: clean parameters that the queue can store, or a
rejection that fits a reply, names the option and value, and gives the range or the fix."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogs.validation import MAX_SEED, ImagineOptions, InvalidOptionError, validate
from settings import DEFAULT_SAMPLERS, LimitsSettings
from tests.hostile.option_checks import (
    DEFAULT_LIMITS,
    INVISIBLE,
    MODELS,
    WIDEST_LIMITS,
    check_accepted,
    check_rejection,
)
from tests.hostile.texts import LONE_SURROGATES, OPTION_MAX_CHARS, any_text

HOSTILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Discord documents integer options as lying between -2**53 and 2**53.
DISCORD_INT = st.integers(-(2**53), 2**53)


def sampler_names() -> st.SearchStrategy[str]:
    offered = st.sampled_from(DEFAULT_SAMPLERS)
    recased = offered.map(lambda name: f"  {name.swapcase()} ")
    return st.one_of(offered, recased, any_text().map(lambda text: text[:100]))


def model_names() -> st.SearchStrategy[str]:
    offered = st.sampled_from(MODELS)
    short = offered.map(lambda name: name.rsplit("/", 1)[-1].rsplit(".", 1)[0].upper())
    return st.one_of(offered, short, any_text().map(lambda text: text[:100]))


def options() -> st.SearchStrategy[ImagineOptions]:
    numbers = st.one_of(st.none(), DISCORD_INT, st.integers(0, 4200))
    floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
    return st.builds(
        ImagineOptions,
        prompt=any_text(),
        negative_prompt=st.none() | any_text(),
        width=numbers,
        height=numbers,
        steps=numbers,
        cfg_scale=floats,
        seed=st.none() | DISCORD_INT | st.sampled_from([-1, 0, MAX_SEED, MAX_SEED + 1]),
        sampler=st.none() | sampler_names(),
        count=st.none() | st.integers(-5, 20),
        model=st.none() | model_names(),
    )


@HOSTILE
@given(options=options(), limits=st.sampled_from([DEFAULT_LIMITS, WIDEST_LIMITS]))
def test_validate_hostile_options(options: ImagineOptions, limits: LimitsSettings) -> None:
    try:
        params = validate(options, limits, DEFAULT_SAMPLERS, MODELS)
    except InvalidOptionError as error:
        check_rejection(error, limits)
        return
    check_accepted(params, limits)


@HOSTILE
@given(value=st.integers(0, 4200), option=st.sampled_from(["width", "height"]))
def test_validate_size_suggestions_in_range(value: int, option: str) -> None:
    limits = DEFAULT_LIMITS

    try:
        validate(ImagineOptions(prompt="a fox", **{option: value}), limits, DEFAULT_SAMPLERS)
    except InvalidOptionError as error:
        check_rejection(error, limits)
        if "multiple of 8" in str(error):
            low, high = getattr(limits, f"{option}_min"), getattr(limits, f"{option}_max")
            suggested = [int(word) for word in str(error).rstrip(".").split() if word.isdigit()]
            assert all(low <= size <= high for size in suggested[1:]), str(error)


def test_validate_nan_cfg_scale_rejected() -> None:
    with pytest.raises(InvalidOptionError) as raised:
        validate(
            ImagineOptions(prompt="a fox", cfg_scale=math.nan), DEFAULT_LIMITS, DEFAULT_SAMPLERS
        )

    check_rejection(raised.value, DEFAULT_LIMITS)


def test_validate_6000_character_prompt() -> None:
    prompt = "@everyone **a fox** " * (OPTION_MAX_CHARS // 20)

    with pytest.raises(InvalidOptionError) as raised:
        validate(ImagineOptions(prompt=prompt), DEFAULT_LIMITS, DEFAULT_SAMPLERS)
    accepted = validate(ImagineOptions(prompt=prompt), WIDEST_LIMITS, DEFAULT_SAMPLERS)

    assert "5,999 characters" in str(raised.value)
    check_rejection(raised.value, DEFAULT_LIMITS)
    check_accepted(accepted, WIDEST_LIMITS)


def test_validate_only_invisible_prompt_rejected() -> None:
    with pytest.raises(InvalidOptionError) as raised:
        validate(ImagineOptions(prompt=INVISIBLE * 10), DEFAULT_LIMITS, DEFAULT_SAMPLERS)

    assert raised.value.option == "prompt"
    check_rejection(raised.value, DEFAULT_LIMITS)


@pytest.mark.parametrize("surrogate", LONE_SURROGATES)
def test_validate_lone_surrogate_rejected_or_storable(surrogate: str) -> None:
    options = ImagineOptions(prompt=f"a red fox {surrogate}", negative_prompt=surrogate)

    try:
        params = validate(options, DEFAULT_LIMITS, DEFAULT_SAMPLERS)
    except InvalidOptionError as error:
        check_rejection(error, DEFAULT_LIMITS)
        return
    check_accepted(params, DEFAULT_LIMITS)


@pytest.mark.parametrize("option", ["sampler", "model"])
def test_validate_long_unknown_name_message_fits(option: str) -> None:
    value = "@here " * (OPTION_MAX_CHARS // 6)
    options = ImagineOptions(prompt="a fox", **{option: value})

    with pytest.raises(InvalidOptionError) as raised:
        validate(options, DEFAULT_LIMITS, DEFAULT_SAMPLERS, MODELS)

    check_rejection(raised.value, DEFAULT_LIMITS)
