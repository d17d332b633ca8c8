"""Each list route returns 200 with the item shape of A1111 1.10."""

from __future__ import annotations

import pytest

from fakewebui import FakeWebUI

LIST_ROUTES = {
    "sd-models": {"title", "model_name", "hash", "sha256", "filename", "config"},
    "samplers": {"name", "aliases", "options"},
    "schedulers": {"name", "label", "aliases", "default_rho", "need_inner_model"},
    "upscalers": {"name", "model_name", "model_path", "model_url", "scale"},
    "latent-upscale-modes": {"name"},
    "sd-vae": {"model_name", "filename"},
    "face-restorers": {"name", "cmd_dir"},
    "realesrgan-models": {"name", "path", "scale"},
    "prompt-styles": {"name", "prompt", "negative_prompt"},
}


@pytest.mark.parametrize("route", sorted(LIST_ROUTES))
async def test_list_route_item_shape(client, route) -> None:
    reply = await client.get(f"/sdapi/v1/{route}")

    assert reply.status == 200
    assert isinstance(reply.body, list)
    assert reply.body
    for item in reply.body:
        assert set(item) == LIST_ROUTES[route]


@pytest.mark.parametrize("route", ["hypernetworks", "extensions", "script-info"])
async def test_list_route_empty(client, route) -> None:
    reply = await client.get(f"/sdapi/v1/{route}")

    assert reply.status == 200
    assert reply.body == []


async def test_samplers_version_1_10_order(client) -> None:
    reply = await client.get("/sdapi/v1/samplers")

    names = [item["name"] for item in reply.body]
    assert names == [
        "DPM++ 2M", "DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 2S a",
        "DPM++ 3M SDE", "Euler a", "Euler", "LMS", "Heun", "DPM2", "DPM2 a", "DPM fast",
        "DPM adaptive", "Restart", "DDIM", "DDIM CFG++", "PLMS", "UniPC", "LCM",
    ]  # fmt: skip


async def test_schedulers_labels(client) -> None:
    reply = await client.get("/sdapi/v1/schedulers")

    labels = [item["label"] for item in reply.body]
    assert labels[0] == "Automatic"
    assert "Karras" in labels
    assert "Align Your Steps" in labels


async def test_sd_models_hashed_titles(client) -> None:
    reply = await client.get("/sdapi/v1/sd-models")

    for item in reply.body:
        assert item["title"] == f"{item['filename'].rsplit('/', 1)[1]} [{item['hash']}]"
        assert item["sha256"].startswith(item["hash"])


async def test_upscalers_model_url_null(client) -> None:
    reply = await client.get("/sdapi/v1/upscalers")

    names = [item["name"] for item in reply.body]
    assert names[:3] == ["None", "Lanczos", "Nearest"]
    assert all(item["model_url"] is None for item in reply.body)


async def test_embeddings_and_scripts_objects(client) -> None:
    embeddings = await client.get("/sdapi/v1/embeddings")
    scripts = await client.get("/sdapi/v1/scripts")

    assert embeddings.body == {"loaded": {}, "skipped": {}}
    assert set(scripts.body) == {"txt2img", "img2img"}
    assert "x/y/z plot" in scripts.body["txt2img"]


async def test_sd_models_lists_instance_models(session) -> None:
    names = ["SDXL/juggernaut.safetensors", "anime.ckpt"]
    async with FakeWebUI(speed=1000, models=names) as webui:
        async with session.get(f"{webui.url}/sdapi/v1/sd-models") as response:
            items = await response.json()
        async with session.get(f"{webui.url}/sdapi/v1/options") as response:
            options = await response.json()

    assert [item["title"].rsplit(" [", 1)[0] for item in items] == names
    assert [item["model_name"] for item in items] == ["SDXL_juggernaut", "anime"]
    assert options["sd_model_checkpoint"] == items[0]["title"]
