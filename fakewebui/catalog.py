"""Static data that the list routes return: models, samplers, upscalers, styles and settings.

``catalog.json`` contains the lists in the item shapes of A1111 1.10's API, and the model files
that an instance lists unless it was given its own. ``options.json``
contains default settings modelled on A1111 1.10. These settings change what the fake does:
``sd_model_checkpoint``, ``samples_format``, ``jpeg_quality``, ``live_previews_enable``,
``show_progress_every_n_steps``, ``return_grid`` and ``CLIP_stop_at_last_layers``. The others,
``send_seed`` among them, are only stored and returned.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

from fakewebui.errors import InvalidModelListError

MODELS_DIR = "/stable-diffusion-webui/models/Stable-diffusion"


@dataclass(frozen=True)
class Checkpoint:
    """A model file as ``/sdapi/v1/sd-models`` lists it.

    ``name`` is the path under the models folder, such as ``SDXL/juggernaut.safetensors``, and
    ``model_name`` is that path without extension and with "/" replaced by "_", as in A1111 1.10.
    """

    name: str
    model_name: str
    sha256: str
    filename: str
    config: str | None

    @property
    def shorthash(self) -> str:
        """First 10 hex digits of the SHA-256, as A1111 shows it in titles and infotexts."""
        return self.sha256[:10]

    @property
    def title(self) -> str:
        """Title in the form ``name [shorthash]`` that options and the UI use."""
        return f"{self.name} [{self.shorthash}]"

    @property
    def name_for_extra(self) -> str:
        """File name without folder and extension, which A1111 reports as ``sd_model_name``."""
        return PurePosixPath(self.name).stem

    def aliases(self) -> set[str]:
        """Return every string that selects this checkpoint in options or overrides."""
        return {
            self.title,
            self.name,
            self.model_name,
            self.name_for_extra,
            self.shorthash,
            self.sha256,
            f"{self.model_name} [{self.shorthash}]",
            f"{self.name_for_extra} [{self.shorthash}]",
        }

    def as_item(self) -> dict[str, Any]:
        """Return the item shape of ``/sdapi/v1/sd-models``."""
        return {
            "title": self.title,
            "model_name": self.model_name,
            "hash": self.shorthash,
            "sha256": self.sha256,
            "filename": self.filename,
            "config": self.config,
        }


@functools.cache
def _load(name: str) -> dict[str, Any]:
    text = resources.files("fakewebui").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def catalog_list(key: str) -> Any:
    """Return a fresh copy of one catalog entry, e.g. ``"samplers"``."""
    return copy.deepcopy(_load("catalog.json")[key])


def checkpoints(names: Sequence[str] | None = None) -> list[Checkpoint]:
    """Return the model files named by ``names``, or else catalog.json's, the first loaded at start.

    A name is a path under the models folder with "/" between folders, such as
    ``SDXL/juggernaut.safetensors``.

    Raises:
        InvalidModelListError: ``names`` is empty, or has a blank, absolute or repeated name.
    """
    if names is None:
        return [_checkpoint(entry["filename"], entry["config"]) for entry in _catalog_models()]
    if isinstance(names, str) or not names:
        raise InvalidModelListError(names, "it must list at least one model file name")
    for name in names:
        if not isinstance(name, str) or not name.strip() or name.startswith("/"):
            raise InvalidModelListError(names, f"{name!r} is not a relative file name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        listed = ", ".join(map(repr, repeated))
        raise InvalidModelListError(names, f"{listed} is listed more than once")
    return [_checkpoint(name, None) for name in names]


def _catalog_models() -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = _load("catalog.json")["sd_models"]
    return models


def _checkpoint(name: str, config: str | None) -> Checkpoint:
    # There are no weights to hash, so the hash is derived from the file name.
    sha256 = hashlib.sha256(f"fakewebui:{name}".encode()).hexdigest()
    return Checkpoint(
        name=name,
        model_name=str(PurePosixPath(name.replace("/", "_")).with_suffix("")),
        sha256=sha256,
        filename=f"{MODELS_DIR}/{name}",
        config=config,
    )


def find_checkpoint(alias: str, available: Sequence[Checkpoint] | None = None) -> Checkpoint | None:
    """Return the checkpoint of ``available`` (default: catalog.json's) that ``alias`` selects.

    Return None when no checkpoint matches.
    """
    for checkpoint in checkpoints() if available is None else available:
        if alias in checkpoint.aliases():
            return checkpoint
    return None


def default_options(available: Sequence[Checkpoint] | None = None) -> dict[str, Any]:
    """Return the settings of a freshly started WebUI with the first checkpoint loaded."""
    options = copy.deepcopy(_load("options.json"))
    first = (checkpoints() if available is None else available)[0]
    options["sd_model_checkpoint"] = first.title
    options["sd_checkpoint_hash"] = first.sha256
    return options


def upscaler_names() -> list[str]:
    """Return the names that ``/sdapi/v1/upscalers`` lists."""
    return [item["name"] for item in _load("catalog.json")["upscalers"]]


def latent_upscale_mode_names() -> list[str]:
    """Return the names that ``/sdapi/v1/latent-upscale-modes`` lists."""
    return [item["name"] for item in _load("catalog.json")["latent_upscale_modes"]]


def apply_styles(prompt: str, negative_prompt: str, styles: list[str]) -> tuple[str, str]:
    """Apply named prompt styles the way A1111 does, ignoring unknown names.

    A style text containing ``{prompt}`` wraps the prompt. Any other style text is appended
    after a comma.
    """
    known = {item["name"]: item for item in _load("catalog.json")["prompt_styles"]}
    for name in styles:
        style = known.get(name)
        if style is not None:
            prompt = _merge_style(prompt, style["prompt"])
            negative_prompt = _merge_style(negative_prompt, style["negative_prompt"])
    return prompt, negative_prompt


def _merge_style(text: str, style_text: str) -> str:
    if not style_text:
        return text
    if "{prompt}" in style_text:
        return style_text.replace("{prompt}", text)
    return f"{text}, {style_text}" if text else style_text


def resolve_sampler(sampler_name: str | None, scheduler_name: str | None) -> tuple[str, str]:
    """Return the sampler name and scheduler label that A1111 1.10 uses for a request.

    A legacy combined name such as "DPM++ 2M Karras" is split into sampler and scheduler. An
    unknown sampler silently becomes the first one listed, and an unknown scheduler becomes
    Automatic. Automatic is also reported when the scheduler is the sampler's own default.
    """
    samplers = _load("catalog.json")["samplers"]
    schedulers = _load("catalog.json")["schedulers"]
    by_key = {key: item for item in schedulers for key in (item["name"], item["label"])}
    scheduler = by_key.get(scheduler_name or "", schedulers[0])
    name = sampler_name or samplers[0]["name"]
    for candidate in schedulers:
        for suffix in (candidate["label"], candidate["name"], *(candidate["aliases"] or [])):
            if name.endswith(" " + suffix):
                scheduler = candidate
                name = name[: -len(suffix) - 1]
                break
    sampler = next((item for item in samplers if item["name"] == name), samplers[0])
    if sampler["options"].get("scheduler") == scheduler["name"]:
        scheduler = schedulers[0]
    return sampler["name"], scheduler["label"]
