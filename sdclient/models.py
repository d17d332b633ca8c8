"""Requests to and results from the AUTOMATIC1111 WebUI API, as plain frozen dataclasses."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sdclient.checkpoints import checkpoint_name, generated_with

logger = logging.getLogger(__name__)

# A1111 builds the latent at width // 8 by height // 8, so any other size comes back rounded
# down and would fail the size check only after a full generation.
SIZE_MULTIPLE = 8


@dataclass(frozen=True, slots=True)
class Txt2ImgRequest:
    """Parameters of one txt2img job, validated on creation."""

    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    steps: int = 20
    cfg_scale: float = 7.0
    seed: int = -1
    sampler_name: str = "Euler a"
    batch_size: int = 1
    n_iter: int = 1
    override_settings: Mapping[str, Any] | None = None
    # A variation blends the seed's noise with the subseed's, by subseed_strength (0 to 1).
    subseed: int = -1
    subseed_strength: float = 0.0
    # The checkpoint for this request alone, by title or name; None keeps the loaded model.
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if value <= 0 or value % SIZE_MULTIPLE:
                raise ValueError(
                    f"{name} {value} is invalid, use a positive multiple of {SIZE_MULTIPLE}."
                )
        for name in ("steps", "batch_size", "n_iter"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"{name} {value} is invalid, use 1 or more.")
        if self.checkpoint is not None and not self.checkpoint.strip():
            raise ValueError(
                f"checkpoint {self.checkpoint!r} is invalid, use a model title or name, or None."
            )

    def to_payload(self) -> dict[str, Any]:
        """Build the JSON body for POST /sdapi/v1/txt2img."""
        payload: dict[str, Any] = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "width": self.width,
            "height": self.height,
            "steps": self.steps,
            "cfg_scale": self.cfg_scale,
            "seed": self.seed,
            "sampler_name": self.sampler_name,
            "batch_size": self.batch_size,
            "n_iter": self.n_iter,
            "send_images": True,
            # save_images also turns on the grid that A1111 prepends to multi-image results.
            "save_images": False,
        }
        if self.subseed_strength:
            payload["subseed"] = self.subseed
            payload["subseed_strength"] = self.subseed_strength
        overrides = dict(self.override_settings or {})
        if self.checkpoint is not None:
            # Per request, because POST /sdapi/v1/options would switch the model for every
            # client of a shared WebUI.
            overrides["sd_model_checkpoint"] = self.checkpoint
        if overrides:
            payload["override_settings"] = overrides
            # The default on A1111 1.10, sent because the WebUI must return to its own model.
            payload["override_settings_restore_afterwards"] = True
        return payload

    @property
    def image_count(self) -> int:
        """Number of images the job produces, without any grid."""
        return self.batch_size * self.n_iter


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One image of a txt2img result, decoded and checked at the requested size."""

    data: bytes
    format: str
    width: int
    height: int
    seed: int | None


@dataclass(frozen=True, slots=True)
class Txt2ImgResult:
    """Images of a finished txt2img job, with the backend's parsed `info` and echoed parameters.

    `elapsed_s` is the time from sending the request to receiving the whole response.
    """

    images: list[GeneratedImage]
    info: dict[str, Any]
    parameters: dict[str, Any]
    elapsed_s: float

    @property
    def seeds(self) -> list[int]:
        """Seeds of the images that reported one, in image order."""
        return [image.seed for image in self.images if image.seed is not None]


@dataclass(frozen=True, slots=True)
class Progress:
    """State of the backend from GET /sdapi/v1/progress, which covers whatever job holds its lock.

    When idle, A1111 keeps the previous job's `job_timestamp`, counters and `interrupted` flag.
    """

    progress: float
    eta_relative: float
    job: str
    job_count: int
    job_no: int
    job_timestamp: str
    sampling_step: int
    sampling_steps: int
    interrupted: bool
    current_image: bytes | None
    textinfo: str | None

    @property
    def idle(self) -> bool:
        """Whether no job is running, judged by the two fields A1111 resets after a job."""
        return self.job_count == 0 and self.job == ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Progress:
        """Build a Progress from a response body, with defaults for missing fields."""
        state = data.get("state")
        if not isinstance(state, Mapping):
            state = {}
        return cls(
            progress=_as_float(data.get("progress")),
            eta_relative=_as_float(data.get("eta_relative")),
            job=str(state.get("job") or ""),
            job_count=_as_int(state.get("job_count")),
            job_no=_as_int(state.get("job_no")),
            job_timestamp=str(state.get("job_timestamp") or "0"),
            sampling_step=_as_int(state.get("sampling_step")),
            sampling_steps=_as_int(state.get("sampling_steps")),
            interrupted=bool(state.get("interrupted")),
            current_image=_decode_preview(data.get("current_image")),
            textinfo=data.get("textinfo") if isinstance(data.get("textinfo"), str) else None,
        )


@dataclass(frozen=True, slots=True)
class SDModel:
    """A checkpoint from GET /sdapi/v1/sd-models.

    `title` gains a " [hash]" suffix once the backend has hashed the file, and `model_name`
    has a different form on each backend, so match on `name` instead (see sdclient.checkpoints).
    """

    title: str
    model_name: str
    filename: str | None
    hash: str | None

    @property
    def name(self) -> str:
        """The file's path under the models folder, such as "SDXL/juggernaut.safetensors"."""
        return checkpoint_name(self.title, self.hash)

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> SDModel:
        """Build an SDModel from one list item, falling back to the title for a missing name."""
        title = str(item.get("title") or item.get("model_name") or "")
        return cls(
            title=title,
            model_name=str(item.get("model_name") or title),
            filename=_as_optional_str(item.get("filename")),
            hash=_as_optional_str(item.get("hash")),
        )


@dataclass(frozen=True, slots=True)
class ModelList:
    """The checkpoints one backend listed, keyed by name."""

    by_name: Mapping[str, SDModel]

    @classmethod
    def from_models(cls, models: Iterable[SDModel]) -> ModelList:
        """Key models by name; of two items with one name the later wins."""
        return cls({model.name: model for model in models})

    @property
    def names(self) -> frozenset[str]:
        """The checkpoint names, which are the same on every backend that has the file."""
        return frozenset(self.by_name)

    def checkpoint_for(self, name: str) -> str:
        """Return the value that selects name in sd_model_checkpoint: its title if listed."""
        model = self.by_name.get(name)
        return model.title if model is not None else name

    def matches_result(self, name: str, info: Mapping[str, Any]) -> bool:
        """Tell whether a txt2img info may come from the model called name (see generated_with)."""
        # A model no longer listed can only be compared by its name.
        model = self.by_name.get(name) or SDModel(name, name, filename=None, hash=None)
        return generated_with(info, model)


def _as_float(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def _as_int(value: object) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return 0


def _as_optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _decode_preview(value: object) -> bytes | None:
    # Previews are small (one latent preview), so decoding them on the event loop is cheap.
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        logger.debug("ignoring a progress preview that is not valid base64")
        return None
