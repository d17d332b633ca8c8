"""Turn a validated txt2img request into a plan: seeds, sizes, sampler, model and metadata.

Planning happens before the generation lock is taken, so a request that A1111 would reject
fails without waiting behind other jobs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from fakewebui import catalog
from fakewebui.errors import APIHTTPError, SimulatedServerError
from fakewebui.faults import oom_message
from fakewebui.infotext import build_infotext
from fakewebui.state import VERSION, WebUIState

MAX_SEED = 4294967294
MIN_SIDE_PX = 8
# Pixels of one batch (four 2048x2048 images) above which the fake returns a CUDA
# out-of-memory error. This is an estimate for a 24 GB card, not a measured limit.
MAX_BATCH_PIXELS = 4 * 2048 * 2048


@dataclass(frozen=True)
class Txt2ImgPlan:
    """Everything a txt2img job needs, resolved from the request and the settings."""

    params: dict[str, Any]
    all_prompts: list[str]
    all_negative_prompts: list[str]
    seeds: list[int]
    subseeds: list[int]
    sampler: str
    scheduler: str
    width: int
    height: int
    out_width: int
    out_height: int
    steps: int
    hr_steps: int
    batch_size: int
    n_iter: int
    checkpoint: catalog.Checkpoint
    options: dict[str, Any]

    @property
    def hires(self) -> bool:
        """Whether a hires-fix second pass runs after the first pass."""
        return bool(self.params["enable_hr"])

    @property
    def passes(self) -> int:
        """Sampling passes per batch: 2 with hires fix, else 1."""
        return 2 if self.hires else 1

    @property
    def image_count(self) -> int:
        """Images the job makes when it is not interrupted."""
        return self.batch_size * self.n_iter

    def infotext(self, index: int) -> str:
        """Return the infotext of image ``index`` of the job."""
        parameters: dict[str, Any] = {
            "Steps": self.steps,
            "Sampler": self.sampler,
            **self.extra_generation_params(),
            "CFG scale": self.params["cfg_scale"],
            "Seed": self.seeds[index],
            "Face restoration": "CodeFormer" if self.restore_faces else None,
            "Size": f"{self.width}x{self.height}",
            "Model hash": self.checkpoint.shorthash,
            "Model": self.checkpoint.name_for_extra,
            "Clip skip": self.clip_skip if self.clip_skip > 1 else None,
            "Tiling": True if self.params["tiling"] else None,
            **self.hires_parameters(),
            "Version": VERSION,
        }
        if self.params["subseed_strength"]:
            parameters["Variation seed"] = self.subseeds[index]
            parameters["Variation seed strength"] = self.params["subseed_strength"]
        prompt = self.all_prompts[index]
        return build_infotext(prompt, self.all_negative_prompts[index], parameters)

    def extra_generation_params(self) -> dict[str, Any]:
        """Return the parameters A1111 reports in ``info.extra_generation_params``."""
        return {"Schedule type": self.scheduler}

    def hires_parameters(self) -> dict[str, Any]:
        """Return the hires-fix infotext parameters, empty without hires fix."""
        if not self.hires:
            return {}
        resize_by_size = self.params["hr_resize_x"] or self.params["hr_resize_y"]
        return {
            "Denoising strength": self.params["denoising_strength"],
            "Hires upscale": None if resize_by_size else self.params["hr_scale"],
            "Hires resize": f"{self.out_width}x{self.out_height}" if resize_by_size else None,
            "Hires steps": self.params["hr_second_pass_steps"] or None,
            "Hires upscaler": self.params["hr_upscaler"] or "Latent",
        }

    @property
    def restore_faces(self) -> bool:
        """Whether face restoration is on, from the request or else the settings."""
        requested = self.params["restore_faces"]
        return bool(self.options.get("face_restoration") if requested is None else requested)

    @property
    def clip_skip(self) -> int:
        """CLIP layers skipped, from ``CLIP_stop_at_last_layers``."""
        value = self.options.get("CLIP_stop_at_last_layers", 1)
        return value if isinstance(value, int) else 1


def build_plan(params: dict[str, Any], state: WebUIState) -> Txt2ImgPlan:
    """Resolve a validated txt2img request against the current settings.

    Raises:
        APIHTTPError: an unknown ``script_name`` or always-on script (422).
        SimulatedServerError: a request that A1111 accepts but then fails on (500).
    """
    _check_scripts(params)
    options = _effective_options(params, state)
    width, height, steps, batch_size, n_iter = (
        _required_int(params, name) for name in ("width", "height", "steps", "batch_size", "n_iter")
    )
    _required_number(params, "cfg_scale")
    if batch_size * n_iter <= 0:
        raise SimulatedServerError("IndexError", "list index out of range")
    if steps < 1:
        raise SimulatedServerError("ValueError", f"steps must be at least 1, got {steps}")
    _check_side(width, height)
    out_width, out_height = _hires_size(params, width, height)
    _check_memory(state, max(width * height, out_width * out_height) * batch_size)
    sampler, scheduler = catalog.resolve_sampler(
        params["sampler_name"] or params["sampler_index"], params["scheduler"]
    )
    prompts, negatives = _prompts(params, batch_size * n_iter)
    seeds, subseeds = _seeds(params, batch_size * n_iter)
    checkpoint = state.find_checkpoint(str(options["sd_model_checkpoint"]))
    return Txt2ImgPlan(
        params=params,
        all_prompts=prompts,
        all_negative_prompts=negatives,
        seeds=seeds,
        subseeds=subseeds,
        sampler=sampler,
        scheduler=scheduler,
        width=width,
        height=height,
        out_width=out_width,
        out_height=out_height,
        steps=steps,
        hr_steps=_hr_steps(params, steps),
        batch_size=batch_size,
        n_iter=n_iter,
        checkpoint=checkpoint or state.current_checkpoint(),
        options=options,
    )


def _check_scripts(params: dict[str, Any]) -> None:
    script_name = params["script_name"]
    scripts = catalog.catalog_list("scripts")["txt2img"]
    if script_name is not None and script_name.lower() not in scripts:
        raise APIHTTPError(422, f"Script '{script_name}' not found")
    always_on = catalog.catalog_list("alwayson_scripts")
    for title in params["alwayson_scripts"]:
        if str(title).lower() not in always_on:
            raise APIHTTPError(422, f"always on script {title} not found")


def _effective_options(params: dict[str, Any], state: WebUIState) -> dict[str, Any]:
    # An unknown checkpoint name is dropped without an error and the job runs with the model
    # of the settings, as in A1111 1.10, Forge and SD.Next, which only log a warning.
    # NOTE: unknown keys are ignored too, which was not checked against a real A1111.
    overrides = params["override_settings"] or {}
    options = dict(state.options)
    for key, value in overrides.items():
        if key not in options:
            continue
        if key == "sd_model_checkpoint":
            checkpoint = state.find_checkpoint(str(value))
            if checkpoint is None:
                continue
            # A1111 stores the title whatever alias selected the model.
            value = checkpoint.title
        options[key] = value
    return options


def _required_int(params: dict[str, Any], name: str) -> int:
    value = params[name]
    if value is None:
        raise SimulatedServerError("TypeError", f"{name} must be an integer, got None")
    return int(value)


def _required_number(params: dict[str, Any], name: str) -> float:
    value = params[name]
    if value is None:
        raise SimulatedServerError("TypeError", f"{name} must be a number, got None")
    return float(value)


def _check_side(width: int, height: int) -> None:
    if width < MIN_SIDE_PX or height < MIN_SIDE_PX:
        raise SimulatedServerError(
            "RuntimeError",
            f"Image size {width}x{height} is too small because width and height must be at "
            f"least {MIN_SIDE_PX} pixels.",
        )


def _check_memory(state: WebUIState, batch_pixels: int) -> None:
    if batch_pixels <= MAX_BATCH_PIXELS:
        return
    state.oom_events += 1
    # A made-up allocation size that grows with the batch, for a believable message.
    raise SimulatedServerError("OutOfMemoryError", oom_message(batch_pixels * 256 / 1024**3))


def _hires_size(params: dict[str, Any], width: int, height: int) -> tuple[int, int]:
    if not params["enable_hr"]:
        return width, height
    _check_hr_upscaler(params["hr_upscaler"])
    resize_x = params["hr_resize_x"] or 0
    resize_y = params["hr_resize_y"] or 0
    if resize_x == 0 and resize_y == 0:
        scale = _required_number(params, "hr_scale")
        size = int(width * scale), int(height * scale)
    elif resize_y == 0:
        size = resize_x, resize_x * height // width
    elif resize_x == 0:
        size = resize_y * width // height, resize_y
    else:
        size = resize_x, resize_y
    _check_side(*size)
    return size


def _check_hr_upscaler(name: str | None) -> None:
    known = catalog.latent_upscale_mode_names() + catalog.upscaler_names()
    if name is not None and name not in known:
        raise SimulatedServerError("Exception", f"could not find upscaler named {name}")


def _hr_steps(params: dict[str, Any], steps: int) -> int:
    return int(params["hr_second_pass_steps"] or steps)


def _prompts(params: dict[str, Any], count: int) -> tuple[list[str], list[str]]:
    prompt, negative = catalog.apply_styles(
        params["prompt"] or "", params["negative_prompt"] or "", params["styles"] or []
    )
    return [prompt] * count, [negative] * count


def _seeds(params: dict[str, Any], count: int) -> tuple[list[int], list[int]]:
    seed = _fixed_seed(params["seed"])
    subseed = _fixed_seed(params["subseed"])
    # With a variation seed in use, every image shares the main seed.
    step = 0 if params["subseed_strength"] else 1
    seeds = [seed + index * step for index in range(count)]
    subseeds = [subseed + index for index in range(count)]
    return seeds, subseeds


def _fixed_seed(seed: int | None) -> int:
    if seed is None or seed == -1:
        return random.randrange(MAX_SEED)
    return seed
