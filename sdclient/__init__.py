"""Asynchronous client for the AUTOMATIC1111 Stable Diffusion WebUI API (also Forge, SD.Next)."""

from __future__ import annotations

from sdclient.checkpoints import checkpoint_name, checkpoint_stem, generated_with
from sdclient.client import SDClient, generation_budget_s
from sdclient.errors import (
    BackendDisconnectedError,
    BackendRejectedError,
    BackendServerError,
    BackendTimeoutError,
    BackendUnreachableError,
    EmptyResultError,
    InvalidResultError,
    SDError,
)
from sdclient.models import (
    GeneratedImage,
    ModelList,
    Progress,
    SDModel,
    Txt2ImgRequest,
    Txt2ImgResult,
)

__all__ = [
    "BackendDisconnectedError",
    "BackendRejectedError",
    "BackendServerError",
    "BackendTimeoutError",
    "BackendUnreachableError",
    "EmptyResultError",
    "GeneratedImage",
    "InvalidResultError",
    "ModelList",
    "Progress",
    "SDClient",
    "SDError",
    "SDModel",
    "Txt2ImgRequest",
    "Txt2ImgResult",
    "checkpoint_name",
    "checkpoint_stem",
    "generated_with",
    "generation_budget_s",
]
