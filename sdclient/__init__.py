"""Asynchronous client for the AUTOMATIC1111 Stable Diffusion WebUI API (also Forge, SD.Next)."""

from __future__ import annotations

from sdclient.client import SDClient, generation_budget_s
from sdclient.errors import (
    BackendDisconnectedError,
    BackendRejectedError,
    BackendServerError,
    BackendTimeoutError,
    BackendUnreachableError,
    InvalidResultError,
    SDError,
)
from sdclient.models import GeneratedImage, Progress, SDModel, Txt2ImgRequest, Txt2ImgResult

__all__ = [
    "BackendDisconnectedError",
    "BackendRejectedError",
    "BackendServerError",
    "BackendTimeoutError",
    "BackendUnreachableError",
    "GeneratedImage",
    "InvalidResultError",
    "Progress",
    "SDClient",
    "SDError",
    "SDModel",
    "Txt2ImgRequest",
    "Txt2ImgResult",
    "generation_budget_s",
]
