"""SDClient: the calls the bot makes to an AUTOMATIC1111-compatible WebUI (also Forge, SD.Next)."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from sdclient.errors import BackendUnreachableError, InvalidResultError, SDError
from sdclient.models import GeneratedImage, Progress, SDModel, Txt2ImgRequest, Txt2ImgResult
from sdclient.responses import parse_json
from sdclient.results import build_txt2img_result, build_upscale_result
from sdclient.transport import RawResponse, Transport

logger = logging.getLogger(__name__)

# Time budget of a txt2img request, an estimate rather than a measurement. Reported times for
# A1111 on recent NVIDIA GPUs are 1-5 s for SD1.5 at 512x512 with 20-30 steps and 5-20 s for
# SDXL at 1024x1024 with 25-30 steps, which is at most about 0.8 s per step per megapixel.
# The base covers a model load on the first job after a start or a checkpoint switch
# (typically 5-60 s). The per-step factor leaves about 4x headroom for slower GPUs, VAE decoding
# and PNG encoding. The cap stops a huge request from holding a worker for more than an hour.
# NOTE: CPU backends are 10-100x slower than this estimate, so callers must pass timeout_s.
GENERATION_BASE_S = 60.0
GENERATION_S_PER_STEP_MEGAPIXEL = 3.0
GENERATION_CAP_S = 3600.0

# Pauses before the second and third attempt of a GET whose connection failed.
GET_RETRY_DELAYS_S = (0.5, 1.5)

TXT2IMG_PATH = "/sdapi/v1/txt2img"
PROGRESS_PATH = "/sdapi/v1/progress"
INTERRUPT_PATH = "/sdapi/v1/interrupt"
SAMPLERS_PATH = "/sdapi/v1/samplers"
SD_MODELS_PATH = "/sdapi/v1/sd-models"
OPTIONS_PATH = "/sdapi/v1/options"
UPSCALERS_PATH = "/sdapi/v1/upscalers"
EXTRAS_PATH = "/sdapi/v1/extra-single-image"

# A1111 stamps jobs "YYYYmmddHHMMSS" in its local time and reports "0" before its first job.
_JOB_TIMESTAMP = re.compile(r"\d{14}")
_NO_JOB_TIMESTAMP = "00000000000000"


def generation_budget_s(request: Txt2ImgRequest) -> float:
    """Estimate how many seconds a txt2img request may take before the client gives up."""
    megapixels = request.width * request.height / 1_000_000
    work = request.steps * megapixels * request.image_count
    return min(GENERATION_BASE_S + GENERATION_S_PER_STEP_MEGAPIXEL * work, GENERATION_CAP_S)


class SDClient:
    """Client of one WebUI's /sdapi/v1 API over a session that the caller owns and closes.

    Every request has a short connect timeout. Progress, list and option calls also have a
    short total timeout, and txt2img gets a budget derived from the job. GET requests are
    retried after a failed connection (see `retry_delays_s`), and POST requests never are.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        auth: tuple[str, str] | None = None,
        connect_timeout_s: float = 5.0,
        request_timeout_s: float = 10.0,
        max_generation_s: float = 900.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url {base_url!r} is invalid, use an http:// or https:// URL.")
        self.base_url = base_url.rstrip("/")
        self.request_timeout_s = request_timeout_s
        self.max_generation_s = max_generation_s
        self.retry_delays_s: tuple[float, ...] = GET_RETRY_DELAYS_S
        self._transport = Transport(
            session, self.base_url, auth=auth, connect_timeout_s=connect_timeout_s
        )

    async def txt2img(
        self, request: Txt2ImgRequest, *, timeout_s: float | None = None
    ) -> Txt2ImgResult:
        """Generate images and return them decoded and checked; never retried here.

        `timeout_s` defaults to `generation_budget_s(request)`, capped at `max_generation_s`.

        Raises:
            BackendUnreachableError: the request was not sent (`may_have_run` is False).
            BackendDisconnectedError: the connection broke after sending, so it may have run.
            BackendRejectedError: the backend responded with 4xx.
            BackendServerError: the backend or a proxy responded with 5xx.
            BackendTimeoutError: the budget ran out, and the job may still be running.
            EmptyResultError: the response has no images (SD.Next without a loaded model).
            InvalidResultError: the response has missing, broken or wrongly sized images.
        """
        if timeout_s is None:
            timeout_s = min(generation_budget_s(request), self.max_generation_s)
        response = await self._transport.request(
            "POST", TXT2IMG_PATH, total_s=timeout_s, json_body=request.to_payload()
        )
        # Base64 and image decoding of a batch take tens of milliseconds, too long for the loop.
        return await asyncio.to_thread(
            build_txt2img_result,
            response.body,
            request,
            url=response.url,
            status=response.status,
            elapsed_s=response.elapsed_s,
        )

    async def progress(self, *, skip_current_image: bool = True, retry: bool = True) -> Progress:
        """Read the state of the job that currently holds the backend, whoever sent it.

        With `retry` False a refused connection raises at once, which makes this a cheap probe
        of whether the backend is up.
        """
        params = {"skip_current_image": "true" if skip_current_image else "false"}
        data = await self._get_json(PROGRESS_PATH, dict, params=params, retry=retry)
        return Progress.from_json(data)

    async def interrupt(self) -> None:
        """Stop whatever job the backend is running, even one that another client sent."""
        # A1111 and Forge return {} and SD.Next returns 204 with no body, so the body is unused.
        await self._transport.request("POST", INTERRUPT_PATH, total_s=self.request_timeout_s)

    async def interrupt_if_running(self, since_job_timestamp: str) -> bool:
        """Interrupt the running job if it started at or after a time, and return whether it did.

        `since_job_timestamp` has the form "YYYYmmddHHMMSS" in the backend's local time, which
        is what A1111 puts in `job_timestamp`, so take it just before sending the request.
        NOTE: the timestamp has a resolution of one second and progress is global, so a job
        of another client that started in the same second or after ours also matches, and so
        does a job that starts between the progress read and the interrupt. Call this right
        after giving up on our own request to keep that window small.
        """
        if not _JOB_TIMESTAMP.fullmatch(since_job_timestamp):
            raise ValueError(
                f"since_job_timestamp {since_job_timestamp!r} is invalid, use YYYYmmddHHMMSS."
            )
        state = await self.progress()
        if state.idle:
            logger.debug("not interrupting: the backend is idle")
            return False
        # Anything but 14 digits, such as "0" before the first job, cannot be compared.
        if not _JOB_TIMESTAMP.fullmatch(state.job_timestamp):
            logger.debug("not interrupting job with timestamp %r", state.job_timestamp)
            return False
        if state.job_timestamp < since_job_timestamp:
            logger.debug(
                "not interrupting job %s, started before %s",
                state.job_timestamp,
                since_job_timestamp,
            )
            return False
        await self.interrupt()
        logger.info(
            "interrupted job %s (started at or after %s)", state.job_timestamp, since_job_timestamp
        )
        return True

    async def job_timestamp_floor(self) -> str:
        """Return the smallest `job_timestamp` the backend can give the job sent next.

        Pass it to interrupt_if_running() after giving up on that job. It is the last job's
        timestamp when idle, the running job's plus one second when busy, and
        "00000000000000" when the backend reports none.

        Raises:
            BackendUnreachableError: the backend is down, so the job should not be sent.
        """
        try:
            progress = await self.progress(retry=False)
        except BackendUnreachableError:
            raise
        except SDError:
            return _NO_JOB_TIMESTAMP
        if not _JOB_TIMESTAMP.fullmatch(progress.job_timestamp):
            return _NO_JOB_TIMESTAMP
        if progress.idle:
            return progress.job_timestamp
        return _next_second(progress.job_timestamp)

    async def samplers(self) -> list[str]:
        """List the sampler names that the backend accepts as `sampler_name`."""
        items = await self._get_json(SAMPLERS_PATH, list)
        return [item["name"] for item in items if isinstance(item, dict) and item.get("name")]

    async def upscalers(self) -> list[str]:
        """List the upscaler names that the extras endpoint accepts, "None" excluded."""
        items = await self._get_json(UPSCALERS_PATH, list)
        names = [item.get("name") for item in items if isinstance(item, dict)]
        return [name for name in names if isinstance(name, str) and name and name != "None"]

    async def upscale(
        self, image: bytes, *, upscaler: str, scale: float, timeout_s: float | None = None
    ) -> GeneratedImage:
        """Enlarge ``image`` by ``scale`` with the named upscaler; never retried here.

        Raises the same errors as txt2img; InvalidResultError also when the result is not
        ``scale`` times the input size.
        """
        payload = {
            "image": base64.b64encode(image).decode("ascii"),
            "resize_mode": 0,
            "upscaling_resize": scale,
            "upscaler_1": upscaler,
            "show_extras_results": True,
        }
        total_s = timeout_s if timeout_s is not None else self.max_generation_s
        response = await self._transport.request(
            "POST", EXTRAS_PATH, total_s=total_s, json_body=payload
        )
        return await asyncio.to_thread(
            build_upscale_result,
            response.body,
            image,
            scale,
            url=response.url,
            status=response.status,
        )

    async def sd_models(self, *, retry: bool = True) -> list[SDModel]:
        """List the checkpoints that the backend can load, skipping items without a name.

        With `retry` False a refused connection raises at once, as for progress().
        """
        items = await self._get_json(SD_MODELS_PATH, list, retry=retry)
        models = [SDModel.from_json(item) for item in items if isinstance(item, dict)]
        return [model for model in models if model.name.strip()]

    async def get_options(self) -> dict[str, Any]:
        """Read every backend setting, such as `sd_model_checkpoint`."""
        options: dict[str, Any] = await self._get_json(OPTIONS_PATH, dict)
        return options

    async def set_options(self, options: Mapping[str, Any]) -> None:
        """Change backend settings, and confirm a model switch with get_options afterwards.

        A1111 loads a new `sd_model_checkpoint` inside the request, after any running job,
        so that case gets `max_generation_s` instead of the short request timeout. A failed
        load is only logged by the backend, which still returns 200.
        """
        slow = "sd_model_checkpoint" in options
        total_s = self.max_generation_s if slow else self.request_timeout_s
        await self._transport.request(
            "POST", OPTIONS_PATH, total_s=total_s, json_body=dict(options)
        )

    async def _get_json(
        self,
        path: str,
        expected: type[Any],
        *,
        params: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> Any:
        response = await self._get(path, params, retry=retry)
        try:
            payload = parse_json(response.body)
        except ValueError:
            payload = None
        if not isinstance(payload, expected):
            reason = f"the body is not a JSON {'object' if expected is dict else 'array'}"
            raise InvalidResultError(url=response.url, status=response.status, reason=reason)
        return payload

    async def _get(
        self, path: str, params: Mapping[str, str] | None, *, retry: bool = True
    ) -> RawResponse:
        delays_s = self.retry_delays_s if retry else ()
        attempts = len(delays_s) + 1
        for attempt, delay_s in enumerate(delays_s, start=1):
            try:
                return await self._transport.request(
                    "GET", path, params=params, total_s=self.request_timeout_s
                )
            except BackendUnreachableError as exc:
                logger.warning(
                    "GET %s failed on attempt %d of %d (%s), retrying in %.1f s",
                    path,
                    attempt,
                    attempts,
                    exc.reason,
                    delay_s,
                )
                await asyncio.sleep(delay_s)
        return await self._transport.request(
            "GET", path, params=params, total_s=self.request_timeout_s
        )


def _next_second(job_timestamp: str) -> str:
    try:
        parsed = datetime.strptime(job_timestamp, "%Y%m%d%H%M%S")
    except ValueError:
        return job_timestamp
    return (parsed + timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
