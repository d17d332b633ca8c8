"""Check /imagine options against the configured limits before anything is queued."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from engine import GenerationParams
from sdclient import checkpoint_name, checkpoint_stem
from settings import LimitsSettings

# C0 and C1 control characters except tab and newline, zero-width characters (U+200B to U+200D,
# U+2060, U+FEFF) and bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066
# to U+2069). A WebUI gains nothing from them, they garble the status text, and a prompt made
# only of them would otherwise pass as not empty. Lone surrogates (U+D800 to U+DFFF) are no
# characters at all and cannot be stored as UTF-8.
_INVISIBLE_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
    r"\ud800-\udfff]"
)
MAX_SEED = 2**32 - 2
# Model names listed in a rejection. Names can be 100 characters long and a Discord message
# contains at most 2,000, so the list stays well under that.
_MODELS_SHOWN = 10
# A sampler or model name is free text of up to 6,000 characters; a rejection quotes only this much.
_NAME_SHOWN_MAX_CHARS = 100

_Number = TypeVar("_Number", int, float)


class InvalidOptionError(ValueError):
    """An option value is outside what this bot accepts; the message states what to send instead."""

    def __init__(self, option: str, value: object, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.value = value


@dataclass(frozen=True, slots=True)
class ImagineOptions:
    """The raw options of one /imagine call; None means the member left it out."""

    prompt: str
    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    seed: int | None = None
    sampler: str | None = None
    count: int | None = None
    model: str | None = None


def validate(
    options: ImagineOptions,
    limits: LimitsSettings,
    samplers: Sequence[str],
    models: Sequence[str] = (),
) -> GenerationParams:
    """Return the generation parameters for ``options``, or raise InvalidOptionError.

    ``models`` are the checkpoint names the backends offer. A chosen model must be one of them,
    so no job is queued for a model that no backend has.
    """
    prompt = _clean_text("prompt", options.prompt, limits.prompt_max_chars)
    if not prompt:
        raise InvalidOptionError(
            "prompt", options.prompt, "The prompt is empty: describe the image you want."
        )
    negative = _clean_text(
        "negative_prompt", options.negative_prompt or "", limits.negative_prompt_max_chars
    )
    width = _size("width", options.width, limits.default_width, limits.width_min, limits.width_max)
    height = _size(
        "height", options.height, limits.default_height, limits.height_min, limits.height_max
    )
    steps = _in_range(
        "steps", options.steps, limits.default_steps, limits.steps_min, limits.steps_max
    )
    cfg_scale = _in_range(
        "cfg_scale",
        options.cfg_scale,
        limits.default_cfg_scale,
        limits.cfg_scale_min,
        limits.cfg_scale_max,
    )
    seed = _in_range("seed", options.seed, -1, -1, MAX_SEED)
    count = _in_range("count", options.count, 1, 1, limits.count_max)
    return GenerationParams(
        prompt=prompt,
        negative_prompt=negative,
        width=width,
        height=height,
        steps=steps,
        cfg_scale=float(cfg_scale),
        seed=seed,
        sampler=_sampler(options.sampler, limits.default_sampler, samplers),
        count=count,
        model=_model(options.model, models),
    )


def _clean_text(option: str, value: str, max_chars: int) -> str:
    text = _INVISIBLE_CHARACTERS.sub("", value).strip()
    if len(text) > max_chars:
        raise InvalidOptionError(
            option,
            value,
            f"The {option} is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it.",
        )
    return text


def _in_range(
    option: str, value: _Number | None, default: _Number, low: _Number, high: _Number
) -> _Number:
    if value is None:
        return default
    if not low <= value <= high:
        raise InvalidOptionError(
            option, value, f"{option} {value} is out of range: choose {low} to {high}."
        )
    return value


def _size(option: str, value: int | None, default: int, low: int, high: int) -> int:
    size = _in_range(option, value, default, low, high)
    if size % 8:
        lower, upper = size - size % 8, size - size % 8 + 8
        raise InvalidOptionError(
            option, value, f"{option} {size} is not a multiple of 8: use {lower} or {upper}."
        )
    return size


def _sampler(value: str | None, default: str, samplers: Sequence[str]) -> str:
    if value is None or not value.strip():
        # A default_sampler that the backends do not offer would fail every request that names
        # no sampler, so the first offered sampler is used instead.
        return _offered(default, samplers) or (samplers[0] if samplers else default)
    wanted = value.strip()
    offered = _offered(wanted, samplers)
    if offered is not None:
        return offered
    shown = ", ".join(samplers[:25])
    raise InvalidOptionError(
        "sampler", value, f"Unknown sampler {_quoted(wanted)}. Choose one of: {shown}."
    )


def _offered(name: str, samplers: Sequence[str]) -> str | None:
    for offered in samplers:
        if offered.casefold() == name.casefold():
            return offered
    return None


def _model(value: str | None, models: Sequence[str]) -> str | None:
    if value is None or not value.strip():
        return None
    requested = value.strip()
    matches = _matching_models(requested, models)
    if len(matches) == 1:
        return matches[0]
    if matches:
        both = " and ".join(repr(name) for name in matches[:2])
        raise InvalidOptionError(
            "model",
            value,
            f"The model {_quoted(requested)} matches {both}: choose one by its full name.",
        )
    if not models:
        raise InvalidOptionError(
            "model",
            value,
            f"Unknown model {_quoted(requested)}: no image server has listed its models yet. "
            "Leave the model empty, or try again in a minute.",
        )
    listed = ", ".join(models[:_MODELS_SHOWN])
    more = len(models) - _MODELS_SHOWN
    if more > 0:
        listed += f" and {more} more, which the model option suggests as you type"
    raise InvalidOptionError(
        "model", value, f"Unknown model {_quoted(requested)}. Choose one of: {listed}."
    )


def _matching_models(requested: str, models: Sequence[str]) -> list[str]:
    """Return the names that requested selects, trying the closest form of match first."""
    if requested in models:
        return [requested]
    # A title pasted from the WebUI carries a " [hash]" suffix that the names lack.
    folded = checkpoint_name(requested).casefold()
    same = [name for name in models if name.casefold() == folded]
    if same:
        return same
    # "juggernaut" or "juggernaut.safetensors" for "SDXL/juggernaut.safetensors".
    return [name for name in models if folded in _short_forms(name)]


def _short_forms(name: str) -> set[str]:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return {base.casefold(), checkpoint_stem(name).casefold()}


def _quoted(name: str) -> str:
    """Return ``name`` quoted for a reply, cut so that a long value keeps the reply short."""
    if len(name) > _NAME_SHOWN_MAX_CHARS:
        name = name[: _NAME_SHOWN_MAX_CHARS - 1] + "…"
    return repr(name)
