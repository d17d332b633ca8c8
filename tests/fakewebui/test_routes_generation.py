"""txt2img, progress, interrupt and skip, driven over HTTP like a real client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fakewebui import FakeWebUI
from tests.fakewebui.conftest import ApiClient

A1111_VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "negative_prompt": {"negative_prompt": "example negative prompt"},
    "complex_prompt": {"prompt": "((emphasis)), (emphasis1:1.1), [to:1], [from::2], [from:to:0.3]"},
    "height_128": {"height": 128},
    "enable_hr": {"enable_hr": True},
    "tiling": {"tiling": True},
    "restore_faces": {"restore_faces": True},
    "sampler_plms": {"sampler_index": "PLMS"},
    "sampler_ddim": {"sampler_index": "DDIM"},
    "sampler_unipc": {"sampler_index": "UniPC"},
    "n_iter_2": {"n_iter": 2},
    "batch_size_2": {"batch_size": 2},
}


@pytest.mark.parametrize("variant", sorted(A1111_VARIANTS))
async def test_txt2img_a1111_test_payloads(client, a1111_payload, variant) -> None:
    payload = {**a1111_payload, **A1111_VARIANTS[variant]}

    reply = await client.txt2img(payload)

    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("application/json")
    assert set(reply.body) == {"images", "parameters", "info"}
    info = client.info(reply.body)
    count = payload["batch_size"] * payload["n_iter"]
    scale = 2 if payload["enable_hr"] else 1
    assert len(reply.body["images"]) == count
    for text in reply.body["images"]:
        image = client.decode_image(text)
        assert image.format == "PNG"
        assert image.size == (payload["width"] * scale, payload["height"] * scale)
        assert image.info["parameters"].startswith(payload["prompt"])
    assert info["all_seeds"] == [info["seed"] + index for index in range(count)]
    assert 0 <= info["seed"] <= 2**32 - 2
    assert len(info["infotexts"]) == count
    assert info["index_of_first_image"] == 0
    assert info["sampler_name"] == payload["sampler_index"]
    assert info["width"] == payload["width"]
    assert info["height"] == payload["height"]
    assert info["steps"] == 3
    assert info["batch_size"] == payload["batch_size"]
    assert len(info["job_timestamp"]) == 14
    assert info["version"] == "v1.10.1"
    assert info["sd_model_name"] == "v1-5-pruned-emaonly"


async def test_txt2img_defaults_echoed_in_parameters(client) -> None:
    reply = await client.txt2img({"prompt": "a red fox", "steps": 2, "width": 64, "height": 64})

    parameters = reply.body["parameters"]
    assert reply.status == 200
    assert parameters["sampler_name"] is None
    assert parameters["sampler_index"] == "Euler"
    assert parameters["seed"] == -1
    assert parameters["cfg_scale"] == 7.0
    assert parameters["n_iter"] == 1
    assert parameters["send_images"] is True
    assert client.info(reply.body)["sampler_name"] == "Euler"


async def test_txt2img_unknown_keys_ignored(client) -> None:
    reply = await client.txt2img({"prompt": "cat", "steps": 2, "width": 64, "height": 64, "x": 1})

    assert reply.status == 200
    assert "x" not in reply.body["parameters"]


async def test_txt2img_coerces_like_pydantic_v1(client) -> None:
    payload = {"steps": "4", "width": 64.9, "height": 64, "restore_faces": "yes", "tiling": 0}

    reply = await client.txt2img(payload)

    parameters = reply.body["parameters"]
    assert reply.status == 200
    assert parameters["steps"] == 4
    assert parameters["width"] == 64
    assert parameters["restore_faces"] is True
    assert parameters["tiling"] is False


async def test_txt2img_fixed_seed_consecutive(client) -> None:
    payload = {"prompt": "owl", "seed": 1234, "batch_size": 2, "n_iter": 2}

    reply = await client.txt2img({**payload, "steps": 2, "width": 64, "height": 64})

    info = client.info(reply.body)
    assert info["seed"] == 1234
    assert info["all_seeds"] == [1234, 1235, 1236, 1237]
    assert info["all_prompts"] == ["owl"] * 4
    for seed, infotext in zip(info["all_seeds"], info["infotexts"], strict=True):
        assert f"Seed: {seed}," in infotext


async def test_txt2img_variation_seed_shares_seed(client) -> None:
    payload = {"seed": 7, "subseed": 100, "subseed_strength": 0.5, "batch_size": 3}

    reply = await client.txt2img({**payload, "steps": 2, "width": 64, "height": 64})

    info = client.info(reply.body)
    assert info["all_seeds"] == [7, 7, 7]
    assert info["all_subseeds"] == [100, 101, 102]


async def test_txt2img_same_prompt_seed_identical(client) -> None:
    payload = {"prompt": "a lighthouse at dusk", "seed": 42, "steps": 2, "width": 96, "height": 64}

    first = await client.txt2img(payload)
    second = await client.txt2img(payload)
    other = await client.txt2img({**payload, "prompt": "a submarine"})

    assert first.body["images"] == second.body["images"]
    assert first.body["images"] != other.body["images"]
    first_pixels = client.decode_image(first.body["images"][0]).tobytes()
    other_pixels = client.decode_image(other.body["images"][0]).tobytes()
    assert first_pixels != other_pixels


async def test_txt2img_grid_only_when_saving(client) -> None:
    payload = {"seed": 5, "batch_size": 2, "n_iter": 2, "steps": 2, "width": 64, "height": 64}

    saved = await client.txt2img({**payload, "save_images": True})
    unsaved = await client.txt2img(payload)
    single = await client.txt2img({**payload, "batch_size": 1, "n_iter": 1, "save_images": True})

    assert len(saved.body["images"]) == 5
    assert client.decode_image(saved.body["images"][0]).size == (128, 128)
    assert client.info(saved.body)["index_of_first_image"] == 1
    assert len(client.info(saved.body)["infotexts"]) == 5
    assert len(unsaved.body["images"]) == 4
    assert client.info(unsaved.body)["index_of_first_image"] == 0
    assert len(single.body["images"]) == 1


async def test_txt2img_send_images_false(client) -> None:
    reply = await client.txt2img({"send_images": False, "steps": 2, "width": 64, "height": 64})

    assert reply.status == 200
    assert reply.body["images"] == []
    assert len(client.info(reply.body)["infotexts"]) == 1


@pytest.mark.parametrize(
    ("hires", "size"),
    [
        ({"hr_scale": 1.5}, (96, 144)),
        ({"hr_resize_x": 128}, (128, 192)),
        ({"hr_resize_y": 96}, (64, 96)),
        ({"hr_resize_x": 100, "hr_resize_y": 50}, (100, 50)),
    ],
)
async def test_txt2img_hires_output_size(client, hires, size) -> None:
    payload = {"enable_hr": True, "denoising_strength": 0.5, "width": 64, "height": 96}

    reply = await client.txt2img({**payload, **hires, "steps": 2})

    assert reply.status == 200, reply.body
    assert client.decode_image(reply.body["images"][0]).size == size
    info = client.info(reply.body)
    assert (info["width"], info["height"]) == (64, 96)
    assert "Hires upscaler: Latent" in info["infotexts"][0]


async def test_txt2img_sampler_resolution(client) -> None:
    combined = await client.txt2img({"sampler_name": "DPM++ 2M Karras", "steps": 2})
    unknown = await client.txt2img({"sampler_name": "No Such Sampler", "steps": 2})

    assert client.info(combined.body)["sampler_name"] == "DPM++ 2M"
    assert client.info(unknown.body)["sampler_name"] == "DPM++ 2M"


async def test_txt2img_override_checkpoint(client) -> None:
    known = {"override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0"}, "steps": 2}
    unknown = {"override_settings": {"sd_model_checkpoint": "missing-model"}, "steps": 2}

    with_known = await client.txt2img({**known, "width": 64, "height": 64})
    with_unknown = await client.txt2img({**unknown, "width": 64, "height": 64})
    options = await client.get("/sdapi/v1/options")

    assert client.info(with_known.body)["sd_model_name"] == "sd_xl_base_1.0"
    assert client.info(with_unknown.body)["sd_model_name"] == "v1-5-pruned-emaonly"
    assert options.body["sd_model_checkpoint"].startswith("v1-5-pruned-emaonly.safetensors")


async def test_txt2img_override_model_of_instance(session) -> None:
    names = ["anime.safetensors", "SDXL/juggernaut.v9.safetensors"]
    async with FakeWebUI(speed=1000, models=names) as webui:
        client = ApiClient(session, webui.url)
        small = {"steps": 2, "width": 64, "height": 64}
        by_name = await client.txt2img(
            {**small, "override_settings": {"sd_model_checkpoint": names[1]}}
        )
        title = webui.state.checkpoints[1].title
        by_title = await client.txt2img(
            {**small, "override_settings": {"sd_model_checkpoint": title}}
        )
        catalog_model = await client.txt2img(
            {**small, "override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0"}}
        )
        options = await client.get("/sdapi/v1/options")

    for reply in (by_name, by_title):
        info = client.info(reply.body)
        assert info["sd_model_name"] == "juggernaut.v9"
        assert info["sd_model_hash"] == webui.state.checkpoints[1].shorthash
        assert "Model: juggernaut.v9" in info["infotexts"][0]
    # A model this instance does not list is dropped silently, as A1111 does.
    assert client.info(catalog_model.body)["sd_model_name"] == "anime"
    assert options.body["sd_model_checkpoint"].startswith("anime.safetensors [")


async def test_txt2img_override_kept_stores_title(client, webui) -> None:
    reply = await client.txt2img(
        {
            "steps": 2,
            "width": 64,
            "height": 64,
            "override_settings": {"sd_model_checkpoint": "sd_xl_base_1.0"},
            "override_settings_restore_afterwards": False,
        }
    )
    options = await client.get("/sdapi/v1/options")

    assert reply.status == 200
    assert options.body["sd_model_checkpoint"] == webui.state.checkpoints[1].title
    assert webui.state.loaded == webui.state.checkpoints[1]


async def test_txt2img_override_restored_keeps_loaded_model(client, webui) -> None:
    override = {"sd_model_checkpoint": "sd_xl_base_1.0"}
    await client.txt2img({"steps": 2, "width": 64, "height": 64, "override_settings": override})
    loaded_after_override = webui.state.loaded
    await client.txt2img({"steps": 2, "width": 64, "height": 64})

    assert loaded_after_override == webui.state.checkpoints[1]
    assert webui.state.loaded == webui.state.checkpoints[0]
    assert webui.state.current_checkpoint() == webui.state.checkpoints[0]


async def test_txt2img_styles_applied(client) -> None:
    reply = await client.txt2img({"prompt": "a fox", "styles": ["cinematic", "unknown"]})

    info = client.info(reply.body)
    assert info["prompt"].startswith("a fox, cinematic still")
    assert info["styles"] == ["cinematic", "unknown"]


async def test_txt2img_unknown_script_422(client) -> None:
    reply = await client.txt2img({"script_name": "no such script"})

    assert reply.status == 422
    assert reply.body == {
        "error": "HTTPException",
        "detail": "Script 'no such script' not found",
        "body": "",
        "errors": "",
    }


async def test_txt2img_unknown_hr_upscaler_500(client) -> None:
    reply = await client.txt2img({"enable_hr": True, "hr_upscaler": "Magic", "steps": 2})

    assert reply.status == 500
    assert reply.body["error"] == "Exception"
    assert reply.body["errors"] == "could not find upscaler named Magic"


async def test_txt2img_oversized_batch_oom(client) -> None:
    reply = await client.txt2img({"width": 4096, "height": 4096, "batch_size": 2})

    assert reply.status == 500
    assert reply.body["error"] == "OutOfMemoryError"
    assert reply.body["errors"].startswith("CUDA out of memory. Tried to allocate")


async def test_txt2img_zero_images_index_error(client) -> None:
    reply = await client.txt2img({"n_iter": 0})

    assert reply.status == 500
    assert reply.body == {
        "error": "IndexError",
        "detail": "",
        "body": "",
        "errors": "list index out of range",
    }


async def test_txt2img_records_requests(client, webui) -> None:
    await client.txt2img({"prompt": "one", "steps": 2, "width": 64, "height": 64})
    await client.txt2img({"steps": "not a number"})

    assert webui.requests == [
        {"prompt": "one", "steps": 2, "width": 64, "height": 64},
        {"steps": "not a number"},
    ]
    assert webui.generated == 1


async def test_txt2img_fifo_order(client, webui) -> None:
    finished: list[str] = []

    async def generate(prompt: str) -> None:
        reply = await client.txt2img({"prompt": prompt, "steps": 2, "width": 64, "height": 64})
        assert reply.status == 200
        finished.append(client.info(reply.body)["prompt"])

    # Holding the lock queues every request; each is queued once it is in the request log.
    async with webui.state.lock:
        tasks = []
        for index, prompt in enumerate(["first", "second", "third", "fourth"]):
            tasks.append(asyncio.create_task(generate(prompt)))
            await client.wait_until(lambda n=index + 1: _logged(webui, n))
    await asyncio.gather(*tasks)

    assert finished == ["first", "second", "third", "fourth"]


async def _logged(webui, count: int) -> bool:
    return len(webui.requests) >= count


async def test_progress_before_first_job(client) -> None:
    body = await client.progress()

    assert body["progress"] == 0
    assert body["eta_relative"] == 0
    assert body["current_image"] is None
    assert body["state"] == {
        "skipped": False,
        "interrupted": False,
        "stopping_generation": False,
        "job": "",
        "job_count": 0,
        "job_timestamp": "0",
        "job_no": 0,
        "sampling_step": 0,
        "sampling_steps": 0,
    }


async def test_progress_advances_with_preview(client, webui) -> None:
    # 1024x1024 steps cost 0.056 s each at speed 1; at speed 4 the 20 steps take about 0.3 s.
    webui.speed = 4
    payload = {"prompt": "progress", "steps": 20, "width": 1024, "height": 1024, "seed": 3}
    job = asyncio.create_task(client.txt2img(payload))
    seen: list[dict[str, Any]] = []

    async def preview_seen() -> bool:
        seen.append(await client.progress())
        return seen[-1]["current_image"] is not None

    await client.wait_until(preview_seen)
    skipped = await client.progress(skip_current_image="true")
    webui.speed = 1000
    reply = await job
    idle = await client.progress()

    busy = [body for body in seen if body["state"]["job_count"] > 0]
    values = [body["progress"] for body in busy]
    assert len(set(values)) >= 2
    assert values == sorted(values)
    assert all(0.01 <= value <= 1 for value in values)
    assert busy[-1]["state"]["job"] == "scripts_txt2img"
    assert busy[-1]["state"]["sampling_steps"] == 20
    assert busy[-1]["state"]["sampling_step"] >= 10
    assert client.decode_image(busy[-1]["current_image"]).format == "PNG"
    assert skipped["current_image"] is None
    assert reply.status == 200
    assert idle["progress"] == 0
    assert idle["current_image"] is None
    assert idle["state"]["job"] == ""
    assert idle["state"]["job_count"] == 0
    assert idle["state"]["sampling_step"] == 20
    assert idle["state"]["job_timestamp"] == client.info(reply.body)["job_timestamp"]


async def test_progress_batch_job_names(client, webui) -> None:
    webui.speed = 5
    job = asyncio.create_task(client.txt2img({"n_iter": 3, "steps": 40, "width": 512}))

    async def second_batch() -> dict[str, Any] | None:
        body = await client.progress(skip_current_image="true")
        return body if body["state"]["job_no"] == 1 else None

    body = await client.wait_until(second_batch)
    webui.speed = 1000
    await job

    assert body["state"]["job"] == "Batch 2 out of 3"
    assert body["state"]["job_count"] == 3
    assert body["progress"] >= 0.01 + 1 / 3


async def test_progress_invalid_query_422(client) -> None:
    reply = await client.get("/sdapi/v1/progress", params={"skip_current_image": "maybe"})

    assert reply.status == 422
    assert reply.body["detail"][0]["loc"] == ["query", "skip_current_image"]


async def test_interrupt_returns_partial_images(client, webui) -> None:
    webui.speed = 5
    payload = {"n_iter": 3, "batch_size": 2, "steps": 100, "width": 512, "height": 512, "seed": 9}
    job = asyncio.create_task(client.txt2img(payload))

    async def sampling_second_batch() -> bool:
        state = (await client.progress(skip_current_image="true"))["state"]
        return state["job_no"] == 1 and state["sampling_step"] >= 1

    await client.wait_until(sampling_second_batch)
    # Nearly freeze the job so the interrupt lands inside the second batch.
    webui.speed = 0.001
    interrupt = await client.post("/sdapi/v1/interrupt")
    webui.speed = 1000
    reply = await job
    after = await client.progress()

    assert interrupt.status == 200
    assert interrupt.body == {}
    assert reply.status == 200
    assert len(reply.body["images"]) == 4
    info = client.info(reply.body)
    assert len(info["infotexts"]) == 4
    assert len(info["all_seeds"]) == 6
    complete = await client.txt2img({**payload, "n_iter": 2})
    assert reply.body["images"][:2] == complete.body["images"][:2]
    assert reply.body["images"][2:] != complete.body["images"][2:4]
    assert client.decode_image(reply.body["images"][3]).size == (512, 512)
    assert after["state"]["interrupted"] is True


async def test_interrupt_flag_cleared_by_next_job(client) -> None:
    await client.post("/sdapi/v1/interrupt")

    reply = await client.txt2img({"steps": 2, "width": 64, "height": 64})
    body = await client.progress()

    assert len(reply.body["images"]) == 1
    assert body["state"]["interrupted"] is False


async def test_skip_moves_to_next_batch(client, webui) -> None:
    webui.speed = 5
    payload = {"n_iter": 2, "steps": 100, "width": 512, "height": 512, "seed": 11}
    job = asyncio.create_task(client.txt2img(payload))

    async def sampling_first_batch() -> bool:
        state = (await client.progress(skip_current_image="true"))["state"]
        return state["job_no"] == 0 and state["sampling_step"] >= 1

    await client.wait_until(sampling_first_batch)
    webui.speed = 0.001
    skip = await client.post("/sdapi/v1/skip")
    webui.speed = 1000
    reply = await job
    complete = await client.txt2img(payload)

    assert skip.status == 200
    assert skip.body is None
    assert len(reply.body["images"]) == 2
    assert reply.body["images"][0] != complete.body["images"][0]
    assert reply.body["images"][1] == complete.body["images"][1]


async def test_speed_1000_job_finishes(client) -> None:
    payload = {"steps": 50, "width": 512, "height": 512, "batch_size": 4}

    reply = await client.txt2img(payload)

    assert reply.status == 200
    assert len(reply.body["images"]) == 4
