"""Options, launch flags, memory and refresh routes."""

from __future__ import annotations

import asyncio

from fakewebui import FakeWebUI


async def test_options_send_seed_round_trip(client) -> None:
    before = await client.get("/sdapi/v1/options")
    original = before.body["send_seed"]

    written = await client.post("/sdapi/v1/options", {"send_seed": not original})
    flipped = await client.get("/sdapi/v1/options")
    restored = await client.post("/sdapi/v1/options", {"send_seed": original})
    after = await client.get("/sdapi/v1/options")

    assert before.status == 200
    assert written.status == 200
    assert written.body is None
    assert flipped.body["send_seed"] is (not original)
    assert restored.status == 200
    assert after.body["send_seed"] is original


async def test_options_flat_defaults(client) -> None:
    reply = await client.get("/sdapi/v1/options")

    assert reply.body["sd_model_checkpoint"].startswith("v1-5-pruned-emaonly.safetensors [")
    assert reply.body["samples_format"] == "png"
    assert reply.body["show_progress_every_n_steps"] == 10
    assert all(not isinstance(value, dict) for value in reply.body.values())


async def test_options_unknown_key_500(client) -> None:
    reply = await client.post("/sdapi/v1/options", {"send_size": False, "no_such_option": 1})
    after = await client.get("/sdapi/v1/options")

    assert reply.status == 500
    assert reply.body == {
        "error": "KeyError",
        "detail": "",
        "body": "",
        "errors": "'no_such_option'",
    }
    assert after.body["send_size"] is False


async def test_options_unknown_checkpoint_500(client) -> None:
    reply = await client.post("/sdapi/v1/options", {"sd_model_checkpoint": "x", "send_seed": False})
    after = await client.get("/sdapi/v1/options")

    assert reply.status == 500
    assert reply.body["error"] == "RuntimeError"
    assert reply.body["errors"] == "model 'x' not found"
    assert after.body["send_seed"] is True


async def test_options_checkpoint_switch(client) -> None:
    reply = await client.post("/sdapi/v1/options", {"sd_model_checkpoint": "sd_xl_base_1.0"})
    options = await client.get("/sdapi/v1/options")
    generated = await client.txt2img({"steps": 2, "width": 64, "height": 64})

    assert reply.status == 200
    assert options.body["sd_model_checkpoint"].startswith("sd_xl_base_1.0.safetensors [")
    assert client.info(generated.body)["sd_model_name"] == "sd_xl_base_1.0"


async def test_options_checkpoint_switch_waits_for_lock(client, webui) -> None:
    async with webui.state.lock:
        switch = asyncio.create_task(
            client.post("/sdapi/v1/options", {"sd_model_checkpoint": "sd_xl_base_1.0"})
        )
        progress = await client.progress()
        waiting = not switch.done()
    reply = await switch

    assert progress["state"]["job_count"] == 0
    assert waiting
    assert reply.status == 200


async def test_options_non_object_422(client) -> None:
    reply = await client.post("/sdapi/v1/options", ["send_seed"])

    assert reply.status == 422
    assert reply.body["detail"][0]["loc"] == ["body"]


async def test_cmd_flags_show_api_auth(session) -> None:
    async with FakeWebUI(api_auth=("user", "pass")) as webui:
        headers = {"Authorization": "Basic dXNlcjpwYXNz"}
        async with session.get(f"{webui.url}/sdapi/v1/cmd-flags", headers=headers) as response:
            flags = await response.json()

    assert flags["api"] is True
    assert flags["api_auth"] == "user:pass"
    assert flags["nowebui"] is False


async def test_memory_shape(client) -> None:
    reply = await client.get("/sdapi/v1/memory")

    assert set(reply.body) == {"ram", "cuda"}
    assert set(reply.body["ram"]) == {"free", "used", "total"}
    assert set(reply.body["cuda"]["events"]) == {"retries", "oom"}
    assert reply.body["cuda"]["system"]["total"] > 0


async def test_refresh_checkpoints_null(client) -> None:
    reply = await client.post("/sdapi/v1/refresh-checkpoints")

    assert reply.status == 200
    assert reply.body is None


async def test_unload_checkpoint_empty_object(client) -> None:
    reply = await client.post("/sdapi/v1/unload-checkpoint")

    assert reply.status == 200
    assert reply.body == {}
