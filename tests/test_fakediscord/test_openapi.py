"""Request validation against Discord's OpenAPI spec, and the error shapes of bad requests."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fakediscord import FakeDiscord
from tests.fakediscord.openapi import OpenApiValidator
from tests.fakediscord.request_body import RequestBody, UploadedFile


@pytest.fixture(scope="module")
def validator() -> OpenApiValidator:
    return OpenApiValidator()


def test_validator_accepts_integer_snowflake(validator: OpenApiValidator) -> None:
    body = RequestBody(payload={"recipient_id": 123456789})

    assert validator.check("POST", "/users/@me/channels", {}, body) == []


def test_validator_rejects_non_snowflake_string(validator: OpenApiValidator) -> None:
    body = RequestBody(payload={"recipient_id": "alice"})

    problems = validator.check("POST", "/users/@me/channels", {}, body)

    assert len(problems) == 1
    assert "recipient_id" in problems[0]


def test_validator_rejects_wrong_type(validator: OpenApiValidator) -> None:
    body = RequestBody(payload={"content": 5})

    problems = validator.check("POST", "/channels/1/messages", {}, body)

    assert problems == [
        "POST /channels/{channel_id}/messages: body $.content: 5 is not of type 'string', 'null'"
    ]


def test_validator_checks_multipart_payload_json(validator: OpenApiValidator) -> None:
    upload = UploadedFile(0, "a.png", "image/png", b"png")
    good = RequestBody(payload={"attachments": [{"id": 0}]}, files=[upload], multipart=True)
    bad = RequestBody(
        payload={"attachments": [{"filename": "a.png"}]}, files=[upload], multipart=True
    )

    assert validator.check("POST", "/channels/1/messages", {}, good) == []
    assert (
        "'id' is a required property" in validator.check("POST", "/channels/1/messages", {}, bad)[0]
    )


def test_validator_flags_unknown_path_and_method(validator: OpenApiValidator) -> None:
    unknown_path = validator.check("GET", "/no/such/route", {}, RequestBody())
    unknown_method = validator.check("PUT", "/users/@me", {}, RequestBody())

    assert unknown_path == ["GET /no/such/route: path is not in Discord's OpenAPI spec"]
    assert unknown_method == ["PUT /users/@me: method is not in the spec (allowed: GET, PATCH)"]


def test_validator_flags_undeclared_query_parameter(validator: OpenApiValidator) -> None:
    body = RequestBody(payload={"type": 5})
    path = "/interactions/1/token/callback"

    assert validator.check("POST", path, {"with_response": "1"}, body) == []
    assert validator.check("POST", path, {"wait": "true"}, body) == [
        "POST /interactions/{interaction_id}/{interaction_token}/callback: "
        "query parameter 'wait' is not in the spec"
    ]


def test_validator_flags_missing_required_body(validator: OpenApiValidator) -> None:
    problems = validator.check("POST", "/users/@me/channels", {}, RequestBody())

    assert problems == ["POST /users/@me/channels: request body is required but missing"]


def test_validator_flags_bad_path_parameter(validator: OpenApiValidator) -> None:
    problems = validator.check("GET", "/channels/general", {}, RequestBody())

    assert len(problems) == 1
    assert "path parameter channel_id='general'" in problems[0]


def test_validator_prefers_literal_segments(validator: OpenApiValidator) -> None:
    assert validator.match("/users/@me") == ("/users/@me", {})
    assert validator.match("/users/42") == ("/users/{user_id}", {"user_id": "42"})


async def test_request_breaking_schema_is_recorded(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    channel = fake_discord.create_guild("guild").create_channel("general")
    payload = {"content": "hi", "allowed_mentions": {"parse": ["nobody"]}}

    async with http.post(f"channels/{channel.id}/messages", json=payload) as response:
        pass

    assert response.status == 200
    assert len(fake_discord.violations) == 1
    assert "allowed_mentions" in fake_discord.violations[0]
    fake_discord.violations.clear()


async def test_unknown_route_gets_discord_404(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.get("no/such/route") as response:
        body = await response.json()

    assert response.status == 404
    assert response.headers["Content-Type"] == "application/json"
    assert body == {"message": "404: Not Found", "code": 0}
    assert fake_discord.requests[-1].route == "/no/such/route"
    assert len(fake_discord.violations) == 1
    fake_discord.violations.clear()


async def test_wrong_method_gets_discord_405(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.put("users/@me", json={}) as response:
        body = await response.json()

    assert response.status == 405
    assert body == {"message": "405: Method Not Allowed", "code": 0}
    fake_discord.violations.clear()


async def test_missing_token_gets_401(fake_discord: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(fake_discord.base_url + "/users/@me") as response:
            body = await response.json()

    assert response.status == 401
    assert body == {"message": "401: Unauthorized", "code": 0}


async def test_invalid_json_gets_50109(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    headers = {"Content-Type": "application/json"}

    async with http.post("users/@me/channels", data=b"{not json", headers=headers) as response:
        body = await response.json()

    assert response.status == 400
    assert body["code"] == 50109
    fake_discord.violations.clear()


async def test_open_dm_unknown_user_gets_50035(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.post("users/@me/channels", json={"recipient_id": 42}) as response:
        body = await response.json()

    assert response.status == 400
    assert body["code"] == 50035
    assert "recipient_id" in body["errors"]
