"""Generation parameters as stored with a job and sent to a backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sdclient import Txt2ImgRequest


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Parameters a member requested, after validation and defaults."""

    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    cfg_scale: float
    seed: int
    sampler: str
    count: int
    subseed: int = -1
    subseed_strength: float = 0.0
    # "txt2img", or "upscale": enlarge source_image (a path under the image store) by scale.
    kind: str = "txt2img"
    upscaler: str | None = None
    scale: float = 1.0
    source_image: str | None = None
    # The checkpoint name a member chose, as the backends list it, or None for the loaded model.
    model: str | None = None

    @property
    def required_model(self) -> str | None:
        """The checkpoint a backend must have to run this job, or None if any backend can.

        An upscale keeps the model of the image it enlarges but does not use it.
        """
        return self.model if self.kind == "txt2img" else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationParams:
        return cls(
            prompt=str(data["prompt"]),
            negative_prompt=str(data.get("negative_prompt", "")),
            width=int(data["width"]),
            height=int(data["height"]),
            steps=int(data["steps"]),
            cfg_scale=float(data["cfg_scale"]),
            seed=int(data.get("seed", -1)),
            sampler=str(data["sampler"]),
            count=int(data.get("count", 1)),
            subseed=int(data.get("subseed", -1)),
            subseed_strength=float(data.get("subseed_strength", 0.0)),
            kind=str(data.get("kind", "txt2img")),
            upscaler=data.get("upscaler"),
            scale=float(data.get("scale", 1.0)),
            source_image=data.get("source_image"),
            model=data.get("model"),
        )

    def to_request(self, checkpoint: str | None = None) -> Txt2ImgRequest:
        """Build the txt2img request; ``count`` images come as one batch.

        ``checkpoint`` selects the model for this request alone, by the backend's title for the
        job's model or by its name, which A1111, Forge and SD.Next also accept. None runs the
        request with the backend's loaded model.
        """
        return Txt2ImgRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            width=self.width,
            height=self.height,
            steps=self.steps,
            cfg_scale=self.cfg_scale,
            seed=self.seed,
            sampler_name=self.sampler,
            batch_size=self.count,
            n_iter=1,
            subseed=self.subseed,
            subseed_strength=self.subseed_strength,
            checkpoint=checkpoint,
        )
