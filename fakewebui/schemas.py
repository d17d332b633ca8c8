"""Request body fields of the A1111 1.10 API routes that the fake WebUI serves.

The txt2img fields follow ``StableDiffusionProcessingTxt2Img`` and its base class, as the API
model generator exposes them: every dataclass field is optional and nullable, and the fields
the API adds (``sampler_index`` and the script and image switches) keep their declared type.
"""

from __future__ import annotations

from fakewebui.coercion import Field

TXT2IMG_FIELDS: tuple[Field, ...] = (
    Field("prompt", "str", ""),
    Field("negative_prompt", "str", ""),
    Field("styles", "str_list", None),
    Field("seed", "int", -1),
    Field("subseed", "int", -1),
    Field("subseed_strength", "float", 0),
    Field("seed_resize_from_h", "int", -1),
    Field("seed_resize_from_w", "int", -1),
    Field("sampler_name", "str", None),
    Field("scheduler", "str", None),
    Field("batch_size", "int", 1),
    Field("n_iter", "int", 1),
    Field("steps", "int", 50),
    Field("cfg_scale", "float", 7.0),
    Field("width", "int", 512),
    Field("height", "int", 512),
    Field("restore_faces", "bool", None),
    Field("tiling", "bool", None),
    Field("do_not_save_samples", "bool", False),
    Field("do_not_save_grid", "bool", False),
    Field("eta", "float", None),
    Field("denoising_strength", "float", None),
    Field("s_min_uncond", "float", None),
    Field("s_churn", "float", None),
    Field("s_tmax", "float", None),
    Field("s_tmin", "float", None),
    Field("s_noise", "float", None),
    Field("override_settings", "dict", None),
    Field("override_settings_restore_afterwards", "bool", True),
    Field("refiner_checkpoint", "str", None),
    Field("refiner_switch_at", "float", None),
    Field("disable_extra_networks", "bool", False),
    Field("firstpass_image", "str", None),
    Field("comments", "dict", None),
    Field("enable_hr", "bool", False),
    Field("firstphase_width", "int", 0),
    Field("firstphase_height", "int", 0),
    Field("hr_scale", "float", 2.0),
    Field("hr_upscaler", "str", None),
    Field("hr_second_pass_steps", "int", 0),
    Field("hr_resize_x", "int", 0),
    Field("hr_resize_y", "int", 0),
    Field("hr_checkpoint_name", "str", None),
    Field("hr_sampler_name", "str", None),
    Field("hr_scheduler", "str", None),
    Field("hr_prompt", "str", ""),
    Field("hr_negative_prompt", "str", ""),
    Field("force_task_id", "str", None),
    Field("sampler_index", "str", "Euler", nullable=False),
    Field("script_name", "str", None),
    Field("script_args", "list", [], nullable=False),
    Field("send_images", "bool", True, nullable=False),
    Field("save_images", "bool", False, nullable=False),
    Field("alwayson_scripts", "dict", {}, nullable=False),
    Field("infotext", "str", None),
)


def _unit_interval(name: str) -> Field:
    return Field(name, "float", 0, nullable=False, ge=0, le=1, finite=True)


EXTRAS_FIELDS: tuple[Field, ...] = (
    Field("resize_mode", "int", 0, nullable=False, choices=(0, 1)),
    Field("show_extras_results", "bool", True, nullable=False),
    _unit_interval("gfpgan_visibility"),
    _unit_interval("codeformer_visibility"),
    _unit_interval("codeformer_weight"),
    Field("upscaling_resize", "float", 2, nullable=False, gt=0),
    Field("upscaling_resize_w", "int", 512, nullable=False, ge=1),
    Field("upscaling_resize_h", "int", 512, nullable=False, ge=1),
    Field("upscaling_crop", "bool", True, nullable=False),
    Field("upscaler_1", "str", "None", nullable=False),
    Field("upscaler_2", "str", "None", nullable=False),
    _unit_interval("extras_upscaler_2_visibility"),
    Field("upscale_first", "bool", False, nullable=False),
    Field("image", "str", "", nullable=False),
)

PNG_INFO_FIELDS: tuple[Field, ...] = (Field("image", "str", nullable=False, required=True),)

FAULT_FIELDS: tuple[Field, ...] = (
    Field("kind", "str", nullable=False, required=True),
    Field("count", "int", 1, nullable=False, ge=1),
)

SETTINGS_FIELDS: tuple[Field, ...] = (
    Field("speed", "float", None, gt=0, finite=True),
    Field("api_enabled", "bool", None),
    Field("api_auth", "str_list", None),
)
