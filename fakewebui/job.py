"""Run a planned txt2img job: simulated sampling time, progress, interrupts and images.

The caller holds the generation lock. Time follows the cost model in ``costs`` divided by the
state's speed, and ``WebUIState.spend`` sleeps in short slices, so progress advances and
interrupt, skip, speed changes and server shutdown take effect quickly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from fakewebui import costs, images
from fakewebui.errors import ConnectionDropped, SimulatedServerError
from fakewebui.faults import oom_message
from fakewebui.plan import Txt2ImgPlan
from fakewebui.progress import PreviewSource
from fakewebui.state import VERSION, WebUIState

logger = logging.getLogger(__name__)

# Length of a PNG cut after its header chunk, so the magic bytes match but decoding fails.
_TRUNCATED_PNG_BYTES = 33


@dataclass
class JobOutput:
    """Encoded images of a job and what is needed to describe them."""

    encoded: list[bytes] = field(default_factory=list)
    infotexts: list[str] = field(default_factory=list)
    pictures: list[Image.Image] = field(default_factory=list)


async def run_job(plan: Txt2ImgPlan, state: WebUIState, fault: str | None) -> dict[str, Any]:
    """Generate the plan's images and return the txt2img response body.

    Raises:
        SimulatedServerError: an armed ``error_500`` or ``oom`` fault.
        ConnectionDropped: the server started shutting down during the job.
    """
    progress = state.progress
    progress.begin("scripts_txt2img", plan.n_iter * plan.passes)
    started = time.monotonic()
    try:
        _raise_armed_error(fault, state)
        output = await _generate(plan, state, fault)
    finally:
        progress.end()
    state.generated += 1
    if not plan.params["override_settings_restore_afterwards"]:
        state.options.update(_kept_overrides(plan))
    logger.info(
        "txt2img job %s finished: %d image(s) in %.2f s%s",
        progress.job_timestamp,
        len(output.encoded),
        time.monotonic() - started,
        " (interrupted)" if progress.interrupted else "",
    )
    # The grid and base64 text of big batches take a while, so progress polls must not wait.
    return await asyncio.to_thread(_response, plan, state, output, fault)


def _raise_armed_error(fault: str | None, state: WebUIState) -> None:
    if fault == "error_500":
        raise SimulatedServerError("Exception", "Simulated failure armed by a test.")
    if fault == "oom":
        state.oom_events += 1
        raise SimulatedServerError("OutOfMemoryError", oom_message(2.0))


async def _generate(plan: Txt2ImgPlan, state: WebUIState, fault: str | None) -> JobOutput:
    setup_seconds = costs.FIXED_SECONDS
    # A model that another job's override left in memory is swapped back, as A1111 does.
    if plan.checkpoint != state.loaded:
        setup_seconds += costs.MODEL_LOAD_SECONDS
    output = JobOutput()
    # Like A1111, a skip before the first batch only clears the flag, but an interrupt ends
    # the job with no images.
    finished_setup = await state.spend(setup_seconds, interruptible=True)
    _raise_if_closing(state)
    if not finished_setup:
        return output
    state.loaded = plan.checkpoint
    for batch in range(plan.n_iter):
        if state.progress.interrupted:
            break
        state.progress.skipped = False
        if plan.n_iter > 1:
            state.progress.job = f"Batch {batch + 1} out of {plan.n_iter}"
        fraction, width, height = await _sample_batch(plan, state, batch)
        _raise_if_closing(state)
        if fault == "wrong_size":
            width, height = max(1, width // 2), max(1, height // 2)
        await asyncio.to_thread(_render_batch, plan, batch, fraction, (width, height), output)
    return output


def _raise_if_closing(state: WebUIState) -> None:
    if state.closing.is_set():
        raise ConnectionDropped()


async def _sample_batch(plan: Txt2ImgPlan, state: WebUIState, batch: int) -> tuple[float, int, int]:
    """Spend the sampling time of one batch and return its completed fraction and image size."""
    first = batch * plan.batch_size
    sizes = [
        (plan.width, plan.height, plan.steps),
        (plan.out_width, plan.out_height, plan.hr_steps),
    ]
    for pass_index in range(plan.passes):
        width, height, steps = sizes[pass_index]
        preview = PreviewSource(plan.all_prompts[first], plan.seeds[first], width, height)
        state.progress.start_pass(batch * plan.passes + pass_index, steps, preview)
        step_seconds = costs.step_seconds(width, height, plan.batch_size)
        for step in range(steps):
            if not await state.spend(step_seconds, interruptible=True, skippable=True):
                return (pass_index + step / steps) / plan.passes, width, height
            state.progress.sampling_step = step + 1
    return 1.0, plan.out_width, plan.out_height


def _render_batch(
    plan: Txt2ImgPlan, batch: int, fraction: float, size: tuple[int, int], output: JobOutput
) -> None:
    image_format = str(plan.options.get("samples_format", "png"))
    quality = int(plan.options.get("jpeg_quality", 80))
    keep_pictures = _returns_grid(plan)
    for index in range(batch * plan.batch_size, (batch + 1) * plan.batch_size):
        prompt, seed = plan.all_prompts[index], plan.seeds[index]
        picture = images.render_partial(prompt, seed, size[0], size[1], fraction)
        infotext = plan.infotext(index)
        output.encoded.append(images.encode(picture, image_format, infotext, quality))
        output.infotexts.append(infotext)
        if keep_pictures:
            output.pictures.append(picture)


def _returns_grid(plan: Txt2ImgPlan) -> bool:
    return (
        bool(plan.params["save_images"])
        and plan.image_count > 1
        and bool(plan.options.get("return_grid", True))
    )


def _response(
    plan: Txt2ImgPlan, state: WebUIState, output: JobOutput, fault: str | None
) -> dict[str, Any]:
    encoded = list(output.encoded)
    infotexts = list(output.infotexts)
    index_of_first_image = 0
    if _returns_grid(plan) and len(output.pictures) > 1:
        grid = images.make_grid(output.pictures)
        image_format = str(plan.options.get("samples_format", "png"))
        quality = int(plan.options.get("jpeg_quality", 80))
        encoded.insert(0, images.encode(grid, image_format, infotexts[0], quality))
        infotexts.insert(0, infotexts[0])
        index_of_first_image = 1
    texts = [_encode_base64(data, fault) for data in encoded]
    if fault == "empty_images" or not plan.params["send_images"]:
        texts = []
    info = _info(plan, state, infotexts, index_of_first_image)
    return {"images": texts, "parameters": plan.params, "info": json.dumps(info)}


def _encode_base64(data: bytes, fault: str | None) -> str:
    if fault == "broken_image":
        # Strict decoders reject the "!". Lenient ones drop it and get an undecodable PNG.
        return base64.b64encode(data[:_TRUNCATED_PNG_BYTES]).decode("ascii") + "!"
    return base64.b64encode(data).decode("ascii")


def _info(
    plan: Txt2ImgPlan, state: WebUIState, infotexts: list[str], index_of_first_image: int
) -> dict[str, Any]:
    params = plan.params
    return {
        "prompt": plan.all_prompts[0],
        "all_prompts": plan.all_prompts,
        "negative_prompt": plan.all_negative_prompts[0],
        "all_negative_prompts": plan.all_negative_prompts,
        "seed": plan.seeds[0],
        "all_seeds": plan.seeds,
        "subseed": plan.subseeds[0],
        "all_subseeds": plan.subseeds,
        "subseed_strength": params["subseed_strength"],
        "width": plan.width,
        "height": plan.height,
        "sampler_name": plan.sampler,
        "cfg_scale": params["cfg_scale"],
        "steps": plan.steps,
        "batch_size": plan.batch_size,
        "restore_faces": plan.restore_faces,
        "face_restoration_model": "CodeFormer" if plan.restore_faces else None,
        "sd_model_name": plan.checkpoint.name_for_extra,
        "sd_model_hash": plan.checkpoint.shorthash,
        "sd_vae_name": None,
        "sd_vae_hash": None,
        "seed_resize_from_w": params["seed_resize_from_w"],
        "seed_resize_from_h": params["seed_resize_from_h"],
        "denoising_strength": params["denoising_strength"],
        "extra_generation_params": _extra_generation_params(plan),
        "index_of_first_image": index_of_first_image,
        "infotexts": infotexts,
        "styles": params["styles"] or [],
        "job_timestamp": state.progress.job_timestamp,
        "clip_skip": plan.clip_skip,
        "is_using_inpainting_conditioning": False,
        "version": VERSION,
    }


def _extra_generation_params(plan: Txt2ImgPlan) -> dict[str, Any]:
    merged = {**plan.extra_generation_params(), **plan.hires_parameters()}
    return {key: value for key, value in merged.items() if value is not None}


def _kept_overrides(plan: Txt2ImgPlan) -> dict[str, Any]:
    overrides = plan.params["override_settings"] or {}
    return {key: plan.options[key] for key in overrides if key in plan.options}
