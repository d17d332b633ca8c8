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
        )

    def to_request(self) -> Txt2ImgRequest:
        """Build the txt2img request; ``count`` images come as one batch."""
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
        )
