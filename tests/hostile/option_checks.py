"""What /imagine validation must return for any input: storable parameters within the limits,
or a rejection that fits a reply, names the option and the value, and states the range or fix."""

from __future__ import annotations

from cogs.validation import MAX_SEED, InvalidOptionError
from engine import GenerationParams
from settings import DEFAULT_SAMPLERS, LimitsSettings
from storage.rows import encode_json
from tests.fakediscord.limits import MAX_CONTENT_LENGTH

# Checkpoint names as backends list them, with a folder in one, as A1111 shows subfolders.
MODELS = ("sd_xl_base_1.0.safetensors", "SDXL/juggernaut.safetensors", "v1-5-pruned.ckpt")
DEFAULT_LIMITS = LimitsSettings()
# The widest limits the settings allow, so that a 6,000-character prompt is accepted too.
WIDEST_LIMITS = LimitsSettings(
    prompt_max_chars=6000,
    negative_prompt_max_chars=6000,
    width_min=64,
    width_max=4096,
    height_min=64,
    height_max=4096,
    steps_max=500,
    cfg_scale_min=0,
    cfg_scale_max=100,
    count_max=10,
)
# Characters that validation promises to remove: controls, zero-width and bidirectional marks.
INVISIBLE = "\x00\x07\x1b\x7f\x85\u200b\u200d\u2060\ufeff\u202e\u2066\u061c"
RANGES = {
    "width": ("width_min", "width_max"),
    "height": ("height_min", "height_max"),
    "steps": ("steps_min", "steps_max"),
    "cfg_scale": ("cfg_scale_min", "cfg_scale_max"),
}


def check_accepted(params: GenerationParams, limits: LimitsSettings) -> None:
    """Fail unless ``params`` are within ``limits`` and the job store can keep them."""
    assert params.prompt
    assert params.prompt == params.prompt.strip()
    assert len(params.prompt) <= limits.prompt_max_chars
    assert len(params.negative_prompt) <= limits.negative_prompt_max_chars
    for text in (params.prompt, params.negative_prompt):
        assert not set(text) & set(INVISIBLE), repr(text)
    for option, (low, high) in RANGES.items():
        value = getattr(params, option)
        assert getattr(limits, low) <= value <= getattr(limits, high), option
    assert params.width % 8 == 0
    assert params.height % 8 == 0
    assert -1 <= params.seed <= MAX_SEED
    assert 1 <= params.count <= limits.count_max
    assert params.sampler in DEFAULT_SAMPLERS
    assert params.model is None or params.model in MODELS
    # The job store must take the parameters, or the request fails after it passed validation.
    encode_json(params.to_dict(), "params")


def check_rejection(error: InvalidOptionError, limits: LimitsSettings) -> None:
    """Fail unless the message of ``error`` fits a reply, names the value and gives the fix.

    A text option's value is named by its length, since a 6,000-character prompt cannot be
    quoted in a 2,000-character reply.
    """
    message = str(error)
    # The bot sends this as an ephemeral reply that pings no one, so mentions may stay as typed.
    assert len(message) <= MAX_CONTENT_LENGTH, f"{len(message)} characters"
    assert error.option.replace("_", " ") in message.replace("_", " ").lower(), message
    if error.option in ("prompt", "negative_prompt"):
        limit = getattr(limits, f"{error.option}_max_chars")
        assert f"{limit:,}" in message or "describe the image" in message, message
    elif error.option in ("sampler", "model"):
        shown = repr(str(error.value).strip())[1:20]
        assert shown in message, message
        offered = DEFAULT_SAMPLERS if error.option == "sampler" else MODELS
        assert any(name in message for name in offered), message
    else:
        assert str(error.value) in message, message
        assert " to " in message or "multiple of 8: use" in message, message
