"""SDClient against a canned WebUI: generation, progress, interrupts, lists, options and retries."""

from __future__ import annotations

import threading
from typing import Any

import aiohttp
import PIL.Image
import pytest
from aiohttp import web

from sdclient import (
    BackendDisconnectedError,
    BackendTimeoutError,
    BackendUnreachableError,
    InvalidResultError,
    SDClient,
    Txt2ImgRequest,
    generation_budget_s,
)
from sdclient.client import GENERATION_BASE_S, GENERATION_CAP_S

BUSY_STATE: dict[str, Any] = {
    "skipped": False,
    "interrupted": False,
    "stopping_generation": False,
    "job": "scripts_txt2img",
    "job_count": 1,
    "job_timestamp": "20250102030405",
    "job_no": 0,
    "sampling_step": 0,
    "sampling_steps": 30,
}
BUSY_PROGRESS: dict[str, Any] = {
    "progress": 0.01,
    "eta_relative": 12.5,
    "state": BUSY_STATE,
    "current_image": None,
    "textinfo": None,
}


def progress_body(*, job: str, job_count: int, job_timestamp: str) -> dict[str, Any]:
    state = BUSY_STATE | {
        "job": job,
        "job_count": job_count,
        "job_timestamp": job_timestamp,
    }
    return BUSY_PROGRESS | {"state": state}


async def test_txt2img_one_image(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(64, 64)], seed=1234, all_seeds=[1234])
    client = SDClient(session, webui.base_url)

    result = await client.txt2img(Txt2ImgRequest("a cat", width=64, height=64))

    assert len(result.images) == 1
    assert result.images[0].format == "png"
    assert (result.images[0].width, result.images[0].height) == (64, 64)
    assert result.seeds == [1234]
    assert result.info["seed"] == 1234
    assert result.parameters == {"prompt": "a cat"}
    assert result.elapsed_s >= 0


async def test_txt2img_sends_payload(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(64, 64)])
    client = SDClient(session, webui.base_url)
    request = Txt2ImgRequest(
        "a cat", width=64, height=64, override_settings={"CLIP_stop_at_last_layers": 2}
    )

    await client.txt2img(request)

    assert webui.requests == [("POST", "/sdapi/v1/txt2img")]
    sent = webui.json_bodies[0]
    assert sent == request.to_payload()
    assert sent["send_images"] is True
    assert sent["save_images"] is False
    assert sent["override_settings"] == {"CLIP_stop_at_last_layers": 2}


async def test_txt2img_sends_checkpoint_override(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(64, 64)], sd_model_name="sd_xl_base_1.0")
    client = SDClient(session, webui.base_url)
    request = Txt2ImgRequest("a cat", width=64, height=64, checkpoint="sd_xl_base_1.0.safetensors")

    result = await client.txt2img(request)

    sent = webui.json_bodies[0]
    assert sent["override_settings"] == {"sd_model_checkpoint": "sd_xl_base_1.0.safetensors"}
    assert sent["override_settings_restore_afterwards"] is True
    assert webui.count("POST", "/sdapi/v1/options") == 0
    assert result.info["sd_model_name"] == "sd_xl_base_1.0"


async def test_txt2img_four_images_skip_grid(webui, session, encode_image) -> None:
    grid = encode_image(128, 128)
    webui.reply_txt2img(
        [grid] + [encode_image(64, 64)] * 4,
        all_seeds=[7, 8, 9, 10],
        index_of_first_image=1,
    )
    client = SDClient(session, webui.base_url)

    result = await client.txt2img(Txt2ImgRequest("a cat", width=64, height=64, batch_size=4))

    assert len(result.images) == 4
    assert result.seeds == [7, 8, 9, 10]
    assert all(image.width == 64 for image in result.images)


async def test_txt2img_batches_and_iterations(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(64, 64)] * 4, all_seeds=[1, 2, 3, 4])
    client = SDClient(session, webui.base_url)
    request = Txt2ImgRequest("a cat", width=64, height=64, batch_size=2, n_iter=2)

    result = await client.txt2img(request)

    assert result.seeds == [1, 2, 3, 4]


async def test_txt2img_decodes_off_event_loop(webui, session, encode_image, monkeypatch) -> None:
    webui.reply_txt2img([encode_image(64, 64)] * 4, all_seeds=[1, 2, 3, 4])
    client = SDClient(session, webui.base_url)
    thread_ids: list[int] = []
    original_open = PIL.Image.open

    def recording_open(*args: Any, **kwargs: Any) -> PIL.Image.Image:
        thread_ids.append(threading.get_ident())
        return original_open(*args, **kwargs)

    monkeypatch.setattr(PIL.Image, "open", recording_open)
    await client.txt2img(Txt2ImgRequest("a cat", width=64, height=64, batch_size=4))

    assert len(thread_ids) == 4
    assert len(set(thread_ids)) == 1
    assert thread_ids[0] != threading.get_ident()


async def test_txt2img_not_retried_when_refused(refused_url) -> None:
    attempts: list[str] = []

    async def count_request(*_: Any) -> None:
        attempts.append("request")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count_request)
    async with aiohttp.ClientSession(trace_configs=[trace]) as traced_session:
        client = SDClient(traced_session, refused_url)
        with pytest.raises(BackendUnreachableError) as caught:
            await client.txt2img(Txt2ImgRequest("a cat", width=64, height=64))

    assert caught.value.may_have_run is False
    assert len(attempts) == 1


async def test_txt2img_budget_capped_by_max_generation(webui, session) -> None:
    async def stall(request: web.Request) -> web.Response:
        await webui.release.wait()
        return web.json_response({})

    webui.handle("POST", "/sdapi/v1/txt2img", stall)
    client = SDClient(session, webui.base_url, max_generation_s=0.2)

    with pytest.raises(BackendTimeoutError) as caught:
        await client.txt2img(Txt2ImgRequest("a cat", width=64, height=64))

    assert caught.value.budget_s == 0.2
    assert caught.value.elapsed_s >= 0.2


def test_generation_budget_capped() -> None:
    huge = Txt2ImgRequest("a cat", width=2048, height=2048, steps=150, batch_size=8)

    assert generation_budget_s(huge) == GENERATION_CAP_S


def test_generation_budget_grows_with_work() -> None:
    small = generation_budget_s(Txt2ImgRequest("a cat", steps=20))
    more_steps = generation_budget_s(Txt2ImgRequest("a cat", steps=40))
    more_images = generation_budget_s(Txt2ImgRequest("a cat", steps=20, batch_size=4))
    bigger = generation_budget_s(Txt2ImgRequest("a cat", steps=20, width=1024, height=1024))

    assert small > GENERATION_BASE_S
    assert small < more_steps
    assert small < more_images
    assert small < bigger


async def test_progress_busy(webui, session, encode_image) -> None:
    preview = encode_image(16, 16)
    webui.reply("GET", "/sdapi/v1/progress", body=BUSY_PROGRESS | {"current_image": preview})
    client = SDClient(session, webui.base_url)

    progress = await client.progress()

    assert webui.requests == [("GET", "/sdapi/v1/progress")]
    assert progress.idle is False
    assert progress.job == "scripts_txt2img"
    assert progress.job_count == 1
    assert progress.sampling_steps == 30
    assert progress.job_timestamp == "20250102030405"
    assert progress.progress == pytest.approx(0.01)
    assert progress.current_image is not None
    assert progress.current_image.startswith(b"\x89PNG")


async def test_progress_sends_skip_current_image(webui, session) -> None:
    seen: list[str] = []

    async def record_query(request: web.Request) -> web.Response:
        seen.append(request.query["skip_current_image"])
        return web.json_response(BUSY_PROGRESS)

    webui.handle("GET", "/sdapi/v1/progress", record_query)
    client = SDClient(session, webui.base_url)

    await client.progress()
    await client.progress(skip_current_image=False)

    assert seen == ["true", "false"]


async def test_progress_idle_after_startup(webui, session) -> None:
    webui.reply(
        "GET", "/sdapi/v1/progress", body=progress_body(job="", job_count=0, job_timestamp="0")
    )
    client = SDClient(session, webui.base_url)

    progress = await client.progress()

    assert progress.idle is True
    assert progress.current_image is None


async def test_interrupt_accepts_204(webui, session) -> None:
    webui.reply("POST", "/sdapi/v1/interrupt", status=204)
    client = SDClient(session, webui.base_url)

    await client.interrupt()

    assert webui.count("POST", "/sdapi/v1/interrupt") == 1


@pytest.mark.parametrize(
    ("job", "job_count", "job_timestamp", "expected"),
    [
        pytest.param("scripts_txt2img", 1, "20250102030405", True, id="busy-same-second"),
        pytest.param("scripts_txt2img", 1, "20250102030500", True, id="busy-newer"),
        pytest.param("", 2, "20250102030500", True, id="busy-by-count"),
        pytest.param("scripts_txt2img", 1, "20250102030404", False, id="busy-older"),
        pytest.param("", 0, "20250102030500", False, id="idle-stale-newer"),
        pytest.param("scripts_txt2img", 1, "0", False, id="busy-no-timestamp"),
    ],
)
async def test_interrupt_if_running_cases(
    webui, session, job: str, job_count: int, job_timestamp: str, expected: bool
) -> None:
    body = progress_body(job=job, job_count=job_count, job_timestamp=job_timestamp)
    webui.reply("GET", "/sdapi/v1/progress", body=body)
    webui.reply("POST", "/sdapi/v1/interrupt", body={})
    client = SDClient(session, webui.base_url)

    interrupted = await client.interrupt_if_running("20250102030405")

    assert interrupted is expected
    assert webui.count("POST", "/sdapi/v1/interrupt") == (1 if expected else 0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            progress_body(job="", job_count=0, job_timestamp="20250102030405"),
            "20250102030405",
            id="idle",
        ),
        pytest.param(
            progress_body(job="scripts_txt2img", job_count=1, job_timestamp="20251231235959"),
            "20260101000000",
            id="busy",
        ),
        pytest.param(
            progress_body(job="", job_count=0, job_timestamp="0"), "00000000000000", id="fresh"
        ),
    ],
)
async def test_job_timestamp_floor_cases(webui, session, body, expected: str) -> None:
    webui.reply("GET", "/sdapi/v1/progress", body=body)
    client = SDClient(session, webui.base_url)

    assert await client.job_timestamp_floor() == expected


async def test_job_timestamp_floor_server_error(webui, session) -> None:
    webui.reply("GET", "/sdapi/v1/progress", status=500, body={"error": "Exception"})
    client = SDClient(session, webui.base_url)

    assert await client.job_timestamp_floor() == "00000000000000"


async def test_job_timestamp_floor_unreachable(session, refused_url) -> None:
    client = SDClient(session, refused_url)

    with pytest.raises(BackendUnreachableError):
        await client.job_timestamp_floor()


async def test_interrupt_if_running_invalid_timestamp(session) -> None:
    client = SDClient(session, "http://127.0.0.1:9")

    with pytest.raises(ValueError, match="YYYYmmddHHMMSS"):
        await client.interrupt_if_running("2025-01-02")


async def test_samplers_lists_names(webui, session) -> None:
    body = [
        {"name": "DPM++ 2M", "aliases": ["k_dpmpp_2m"], "options": {}},
        {"name": "Euler a", "aliases": ["k_euler_a"], "options": {}},
    ]
    webui.reply("GET", "/sdapi/v1/samplers", body=body)
    client = SDClient(session, webui.base_url)

    assert await client.samplers() == ["DPM++ 2M", "Euler a"]


async def test_sd_models_before_and_after_hashing(webui, session) -> None:
    body = [
        {
            "title": "v1-5-pruned.safetensors [6ce0161689]",
            "model_name": "v1-5-pruned",
            "hash": "6ce0161689",
            "sha256": "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa",
            "filename": "/models/Stable-diffusion/v1-5-pruned.safetensors",
            "config": None,
        },
        {
            "title": "sdxl",
            "model_name": "sdxl",
            "hash": None,
            "sha256": None,
            "filename": "/models/Stable-diffusion/sdxl.safetensors",
            "config": None,
        },
    ]
    webui.reply("GET", "/sdapi/v1/sd-models", body=body)
    client = SDClient(session, webui.base_url)

    hashed, unhashed = await client.sd_models()

    assert hashed.model_name == "v1-5-pruned"
    assert hashed.hash == "6ce0161689"
    assert unhashed.title == "sdxl"
    assert unhashed.hash is None
    assert unhashed.filename == "/models/Stable-diffusion/sdxl.safetensors"


async def test_sd_models_names_across_backends(webui, session) -> None:
    # A1111 1.10 replaces "/" in model_name, and SD.Next reports the name with its extension.
    body = [
        {
            "title": "SDXL/jugger.safetensors [0a1b2c3d4e]",
            "model_name": "SDXL_jugger",
            "hash": "0a1b2c3d4e",
        },
        {"title": "SDXL/jugger.safetensors [0a1b2c3d4e]", "model_name": "SDXL/jugger.safetensors"},
        {"title": "", "model_name": ""},
        "not an object",
    ]
    webui.reply("GET", "/sdapi/v1/sd-models", body=body)
    client = SDClient(session, webui.base_url)

    models = await client.sd_models()

    assert [model.name for model in models] == ["SDXL/jugger.safetensors"] * 2


async def test_sd_models_without_retry_raises_at_once(session, refused_url) -> None:
    client = SDClient(session, refused_url)

    with pytest.raises(BackendUnreachableError):
        await client.sd_models(retry=False)


async def test_get_options_returns_dict(webui, session) -> None:
    options = {"sd_model_checkpoint": "v1-5-pruned.safetensors [6ce0161689]", "send_seed": True}
    webui.reply("GET", "/sdapi/v1/options", body=options)
    client = SDClient(session, webui.base_url)

    assert await client.get_options() == options


async def test_get_options_rejects_non_object(webui, session) -> None:
    webui.reply("GET", "/sdapi/v1/options", body=["not", "a", "dict"])
    client = SDClient(session, webui.base_url)

    with pytest.raises(InvalidResultError, match="JSON object"):
        await client.get_options()


@pytest.mark.parametrize("reply_body", [None, {"updated": [{"send_seed": True}]}])
async def test_set_options_posts_values(webui, session, reply_body: Any) -> None:
    webui.reply("POST", "/sdapi/v1/options", body=reply_body)
    client = SDClient(session, webui.base_url)

    await client.set_options({"send_seed": False})

    assert webui.json_bodies == [{"send_seed": False}]


async def test_get_retries_then_raises(refused_url) -> None:
    attempts: list[str] = []

    async def count_request(*_: Any) -> None:
        attempts.append("request")

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count_request)
    async with aiohttp.ClientSession(trace_configs=[trace]) as traced_session:
        client = SDClient(traced_session, refused_url)
        client.retry_delays_s = (0.01, 0.01)
        with pytest.raises(BackendUnreachableError):
            await client.samplers()

    assert len(attempts) == 3


async def test_get_retries_disconnect_then_succeeds(webui, session) -> None:
    calls: list[int] = []

    async def drop_first(request: web.Request) -> web.StreamResponse:
        calls.append(1)
        if len(calls) <= 2:
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError()
        return web.json_response([{"name": "Euler a"}])

    webui.handle("GET", "/sdapi/v1/samplers", drop_first)
    client = SDClient(session, webui.base_url)
    client.retry_delays_s = (0.01, 0.01)

    assert await client.samplers() == ["Euler a"]
    assert len(calls) == 3


async def test_post_options_not_retried_on_disconnect(webui, session) -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        raise web.HTTPInternalServerError()

    webui.handle("POST", "/sdapi/v1/options", drop)
    client = SDClient(session, webui.base_url)

    with pytest.raises(BackendDisconnectedError):
        await client.set_options({"send_seed": False})

    assert webui.count("POST", "/sdapi/v1/options") == 1


def test_client_strips_trailing_slash(session) -> None:
    assert SDClient(session, "http://127.0.0.1:7860/").base_url == "http://127.0.0.1:7860"


def test_client_rejects_non_http_url(session) -> None:
    with pytest.raises(ValueError, match="base_url"):
        SDClient(session, "127.0.0.1:7860")


async def test_upscale_against_stand_in() -> None:
    import io

    import aiohttp
    from PIL import Image

    from fakewebui import FakeWebUI
    from sdclient import SDClient

    source = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(source, "PNG")
    async with FakeWebUI(speed=1000.0) as webui, aiohttp.ClientSession() as session:
        client = SDClient(session, webui.url)
        names = await client.upscalers()
        result = await client.upscale(source.getvalue(), upscaler=names[0], scale=2)

    assert "None" not in names
    assert (result.width, result.height) == (128, 96)
    assert result.format == "png"
