"""The token check: every route responds with 401 without the right token and logs it."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from dashboard import DashboardServer, InvalidTokenError, create_dashboard_app
from engine import QueueService
from tests.dashboard.scenario import TOKEN

ROUTES = ["/", "/api/overview", "/metrics"]
WRONG = "wrong-token-value-123"


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, ""),
        ({"Authorization": f"Bearer {WRONG}"}, ""),
        ({}, f"?token={WRONG}"),
        ({"Authorization": "Bearer "}, ""),
        ({}, "?token="),
        ({"Authorization": f"Bearer {WRONG}"}, f"?token={TOKEN}"),
        ({"Authorization": TOKEN}, ""),
    ],
    ids=[
        "none",
        "wrong-bearer",
        "wrong-query",
        "empty-bearer",
        "empty-query",
        "wrong-bearer-right-query",
        "no-scheme",
    ],
)
async def test_routes_without_valid_token_401(
    session: aiohttp.ClientSession,
    dashboard: DashboardServer,
    headers: dict[str, str],
    query: str,
) -> None:
    for path in ROUTES:
        async with session.get(f"{dashboard.url}{path}{query}", headers=headers) as response:
            body = await response.text()

        assert response.status == 401, path
        assert response.content_type == "text/plain", path
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), path
        assert len(body) < 120, path
        assert "token" in body, path


async def test_routes_with_bearer_token(session, dashboard) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for path in ROUTES:
        async with session.get(f"{dashboard.url}{path}", headers=headers) as response:
            assert response.status == 200, path


async def test_routes_with_query_token(session, dashboard) -> None:
    for path in ROUTES:
        async with session.get(f"{dashboard.url}{path}", params={"token": TOKEN}) as response:
            assert response.status == 200, path


async def test_bearer_scheme_case_insensitive(session, dashboard) -> None:
    headers = {"Authorization": f"bearer {TOKEN}"}
    async with session.get(f"{dashboard.url}/metrics", headers=headers) as response:
        assert response.status == 200


async def test_basic_header_falls_back_to_query(session, dashboard) -> None:
    # A proxy with HTTP Basic auth in front of the bot makes the browser send this header.
    headers = {"Authorization": "Basic YWRtaW46aHVudGVyMg=="}
    url = f"{dashboard.url}/api/overview"
    async with session.get(url, headers=headers, params={"token": TOKEN}) as response:
        assert response.status == 200


async def test_unknown_path_401_before_404(session, dashboard) -> None:
    async with session.get(f"{dashboard.url}/nope") as response:
        assert response.status == 401
    async with session.get(f"{dashboard.url}/nope", params={"token": TOKEN}) as response:
        assert response.status == 404


async def test_rejection_logged_without_token(session, dashboard, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        async with session.get(f"{dashboard.url}/metrics", params={"token": WRONG}):
            pass
        async with session.get(f"{dashboard.url}/api/overview"):
            pass

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("dashboard")]
    assert len(lines) == 2
    assert lines[0].startswith("dashboard rejected GET /metrics from 127.0.0.1")
    assert lines[0].endswith("wrong token")
    assert lines[1].endswith("no token")
    every_message = " ".join(record.getMessage() for record in caplog.records)
    assert WRONG not in every_message
    assert TOKEN not in every_message


async def test_accepted_request_not_logged(session, dashboard, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        async with session.get(f"{dashboard.url}/", params={"token": TOKEN}):
            pass

    assert TOKEN not in " ".join(record.getMessage() for record in caplog.records)
    assert not [r for r in caplog.records if r.name.startswith("dashboard.auth")]


@pytest.mark.parametrize("token", ["", "   ", "\n"])
def test_app_empty_token_rejected(service: QueueService, token: str) -> None:
    with pytest.raises(ValueError, match="dashboard.token") as raised:
        create_dashboard_app(service, token=token)

    assert isinstance(raised.value, InvalidTokenError)


def test_server_empty_token_rejected(service: QueueService) -> None:
    with pytest.raises(InvalidTokenError, match="dashboard.token"):
        DashboardServer(service, token="")
