"""``imagine-bot check`` against real fake WebUIs and small aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from checks import (
    EMBEDDED_DESCRIPTION,
    TOKEN_FIX,
    CheckResult,
    Status,
    check_config_file,
    check_storage,
    check_token,
    collect_checks,
    format_report,
    run_checks,
    token_source,
)
from fakewebui import FakeWebUI
from settings import BackendSettings, Settings, StorageSettings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

NOT_REACHABLE_FIX = "is the WebUI running and is the URL right?"
API_OFF_FIX = "the API is off; start the WebUI with --api (or --nowebui"
AUTH_REJECTED_FIX = "the WebUI rejected the username/password"
AUTH_FIX = "to match its --api-auth"


def fake_token(bot_id: int = 123456789012345678) -> str:
    """Build a token of the right form from base64 of an id. Discord would reject it."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")

    return ".".join([encode(str(bot_id).encode()), encode(b"\x01\x02\x03\x04"), encode(b"x" * 27)])


def build_settings(
    tmp_path: Path,
    backends: list[BackendSettings],
    *,
    token: str | None = None,
    **limits: Any,
) -> Settings:
    settings = Settings()
    update: dict[str, Any] = {
        "storage": StorageSettings(data_dir=tmp_path / "data"),
        "backends": backends,
        "discord": settings.discord.model_copy(
            update={"token": SecretStr(token) if token is not None else None}
        ),
    }
    if limits:
        update["limits"] = settings.limits.model_copy(update=limits)
    return settings.model_copy(update=update)


async def run_in_thread(settings: Settings, config_path: Path | None = None) -> int:
    # run_checks starts its own event loop, and the servers under test run on this one.
    return await asyncio.to_thread(run_checks, settings, config_path=config_path)


async def collect_lines(settings: Settings) -> list[str]:
    return [str(result) for result in await collect_checks(settings, config_path=None)]


def lines_about(lines: list[str], subject: str) -> list[str]:
    return [line for line in lines if f" {subject}: " in line]


async def stopped_url() -> str:
    """Return the URL of a fake WebUI that has stopped, so nothing listens on its port."""
    async with FakeWebUI() as webui:
        url = webui.url
    return url


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DISCORD_TOKEN", "IMAGINE_DISCORD__TOKEN", "IMAGINE_DISCORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def serve_routes() -> AsyncIterator[Callable[[dict[str, Handler]], Awaitable[str]]]:
    """Start aiohttp servers on 127.0.0.1 with the given GET routes and return their URLs."""
    runners: list[web.AppRunner] = []

    async def start(routes: dict[str, Handler]) -> str:
        app = web.Application()
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


def json_handler(payload: Any, status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(payload, status=status)

    return handler


async def test_run_checks_two_backends_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = fake_token()
    async with FakeWebUI() as first, FakeWebUI() as second:
        backends = [
            BackendSettings(name="gpu-1", url=first.url),
            BackendSettings(name="gpu-2", url=second.url),
        ]
        exit_code = await run_in_thread(build_settings(tmp_path, backends, token=token))

    stdout = capsys.readouterr().out
    assert exit_code == 0
    for backend in backends:
        subject = f"backend {backend.name} ({backend.url})"
        assert f"OK   {subject}: reachable" in stdout
        assert f"OK   {subject}: API enabled" in stdout
        assert f"OK   {subject}: credentials not required" in stdout
        assert f"OK   {subject}: 2 model(s): v1-5-pruned-emaonly, sd_xl_base_1.0" in stdout
        assert f"OK   {subject}: 20 samplers listed" in stdout
        assert f"OK   {subject}: default sampler 'Euler a' offered" in stdout
    assert not [line for line in stdout.splitlines() if line.startswith("FAIL")]
    assert stdout.splitlines()[-1].endswith("0 FAIL; nothing failed")
    assert token not in stdout


async def test_run_checks_names_each_failing_backend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    down_url = await stopped_url()
    async with (
        FakeWebUI() as up,
        FakeWebUI(api_enabled=False) as api_off,
        FakeWebUI(api_auth=("u", "p")) as guarded,
    ):
        backends = [
            BackendSettings(name="up", url=up.url),
            BackendSettings(name="down", url=down_url),
            BackendSettings(name="no-api", url=api_off.url),
            BackendSettings(
                name="guarded", url=guarded.url, username="u", password=SecretStr("Wr0ngPass")
            ),
        ]
        exit_code = await run_in_thread(build_settings(tmp_path, backends, token=fake_token()))

    stdout = capsys.readouterr().out
    failures = [line for line in stdout.splitlines() if line.startswith("FAIL")]
    assert exit_code == 1
    assert len(failures) == 3
    down, no_api, guarded_line = failures
    assert down.startswith(f"FAIL backend down ({down_url}): not reachable at {down_url}")
    assert "(connection refused)" in down
    assert NOT_REACHABLE_FIX in down
    assert no_api.startswith(f"FAIL backend no-api ({backends[2].url}): ")
    assert API_OFF_FIX in no_api
    assert guarded_line.startswith(f"FAIL backend guarded ({backends[3].url}): ")
    assert AUTH_REJECTED_FIX in guarded_line
    assert AUTH_FIX in guarded_line
    assert "Wr0ngPass" not in stdout
    assert f"OK   backend up ({backends[0].url}): default sampler 'Euler a' offered" in stdout
    assert stdout.splitlines()[-1].endswith("3 FAIL; fix each FAIL line, then check again")


async def test_check_backend_api_off_reports_reachable(tmp_path: Path) -> None:
    async with FakeWebUI(api_enabled=False) as webui:
        url = webui.url
        lines = await collect_lines(build_settings(tmp_path, [BackendSettings(name="a", url=url)]))

    backend_lines = lines_about(lines, f"backend a ({url})")
    assert backend_lines[0].startswith("OK   ")
    assert backend_lines[0].endswith(": reachable")
    assert backend_lines[1].startswith("FAIL ")
    assert len(backend_lines) == 2


async def test_check_backend_api_off_with_path(tmp_path: Path) -> None:
    async with FakeWebUI(api_enabled=False) as webui:
        backend = BackendSettings(name="a", url=f"{webui.url}/ui")
        lines = await collect_lines(build_settings(tmp_path, [backend]))

    failure = next(line for line in lines if line.startswith("FAIL"))
    assert API_OFF_FIX in failure
    assert "remove the path '/ui' from the URL" in failure


async def test_check_backend_credentials_accepted(tmp_path: Path) -> None:
    async with FakeWebUI(api_auth=("u", "p")) as webui:
        backend = BackendSettings(name="a", url=webui.url, username="u", password=SecretStr("p"))
        lines = await collect_lines(build_settings(tmp_path, [backend]))

    assert f"OK   backend a ({backend.url}): credentials accepted" in lines
    assert not [line for line in lines if line.startswith("FAIL")]


async def test_check_backend_credentials_missing(tmp_path: Path) -> None:
    async with FakeWebUI(api_auth=("u", "p")) as webui:
        url = webui.url
        lines = await collect_lines(build_settings(tmp_path, [BackendSettings(name="a", url=url)]))

    backend_lines = lines_about(lines, f"backend a ({url})")
    assert [line[:4] for line in backend_lines] == ["OK  ", "OK  ", "FAIL"]
    assert "the WebUI requires a username and password" in backend_lines[2]
    assert AUTH_FIX in backend_lines[2]


async def test_check_backend_url_credentials_hidden(tmp_path: Path) -> None:
    async with FakeWebUI(api_auth=("u", "p")) as webui:
        shown_url = webui.url
        url = shown_url.replace("http://", "http://u:hunter2@")
        lines = await collect_lines(build_settings(tmp_path, [BackendSettings(name="a", url=url)]))

    report = "\n".join(lines)
    assert f"FAIL backend a ({shown_url}): {AUTH_REJECTED_FIX}" in report
    assert "hunter2" not in report


async def test_check_backend_password_without_username(tmp_path: Path) -> None:
    async with FakeWebUI() as webui:
        backend = BackendSettings(name="a", url=webui.url, password=SecretStr("p"))
        lines = await collect_lines(build_settings(tmp_path, [backend]))

    warning = next(line for line in lines if line.startswith("WARN backend a"))
    assert "password is set without username, so the password is not sent" in warning


async def test_check_backend_no_models(tmp_path: Path, serve_routes: Any) -> None:
    url = await serve_routes(
        {
            "/sdapi/v1/sd-models": json_handler([]),
            "/sdapi/v1/samplers": json_handler([{"name": "Euler a"}]),
        }
    )
    settings = build_settings(tmp_path, [BackendSettings(name="a", url=url)])

    lines = await collect_lines(settings)
    exit_code = await run_in_thread(settings)

    failure = next(line for line in lines if line.startswith("FAIL"))
    assert failure.startswith(f"FAIL backend a ({url}): no models found")
    assert "put a checkpoint in models/Stable-diffusion" in failure
    assert exit_code == 1


async def test_check_backend_no_samplers(tmp_path: Path, serve_routes: Any) -> None:
    url = await serve_routes(
        {
            "/sdapi/v1/sd-models": json_handler([{"title": "m", "model_name": "m"}]),
            "/sdapi/v1/samplers": json_handler([]),
        }
    )

    lines = await collect_lines(build_settings(tmp_path, [BackendSettings(name="a", url=url)]))

    assert f"OK   backend a ({url}): 1 model(s): m" in lines
    assert f"FAIL backend a ({url}): no samplers listed" in "\n".join(lines)


async def test_check_backend_not_a_webui(tmp_path: Path, serve_routes: Any) -> None:
    async def html_page(request: web.Request) -> web.Response:
        return web.Response(text="<html><title>Router</title></html>", content_type="text/html")

    url = await serve_routes({"/sdapi/v1/sd-models": html_page})

    lines = await collect_lines(build_settings(tmp_path, [BackendSettings(name="a", url=url)]))

    failure = next(line for line in lines if line.startswith("FAIL"))
    assert "listing models failed" in failure
    assert "check that the URL points at a Stable Diffusion WebUI" in failure


async def test_check_backend_server_error(tmp_path: Path, serve_routes: Any) -> None:
    body = {"error": "RuntimeError", "detail": "", "body": "", "errors": "disk full"}
    url = await serve_routes({"/sdapi/v1/sd-models": json_handler(body, status=500)})

    lines = await collect_lines(build_settings(tmp_path, [BackendSettings(name="a", url=url)]))

    failure = next(line for line in lines if line.startswith("FAIL"))
    assert "HTTP 500 (disk full)" in failure
    assert "see the WebUI's console" in failure


async def test_check_backend_timeout(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    backend = BackendSettings(name="a", url=url, request_timeout_s=0.2)
    try:
        lines = await collect_lines(build_settings(tmp_path, [backend]))
    finally:
        release.set()
        server.close()
        await server.wait_closed()

    failure = next(line for line in lines if line.startswith("FAIL"))
    assert failure.startswith(f"FAIL backend a ({url}): not reachable at {url} (timed out)")
    assert NOT_REACHABLE_FIX in failure


async def test_check_backend_default_sampler_not_offered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with FakeWebUI() as webui:
        settings = build_settings(
            tmp_path, [BackendSettings(name="a", url=webui.url)], default_sampler="Karras Special"
        )
        exit_code = await run_in_thread(settings)

    stdout = capsys.readouterr().out
    warning = next(line for line in stdout.splitlines() if line.startswith("WARN backend a"))
    assert exit_code == 0
    assert "limits.default_sampler 'Karras Special' is not offered" in warning
    assert "so requests without a sampler use 'DPM++ 2M'" in warning
    assert "one of: DPM++ 2M, DPM++ SDE," in warning
    assert "Euler a" in warning


async def test_check_backend_default_sampler_other_case(tmp_path: Path) -> None:
    async with FakeWebUI() as webui:
        backend = BackendSettings(name="a", url=webui.url)
        lines = await collect_lines(build_settings(tmp_path, [backend], default_sampler="euler A"))

    assert f"OK   backend a ({backend.url}): default sampler 'euler A' offered" in lines


async def test_check_backend_shared_url_warns(tmp_path: Path) -> None:
    async with FakeWebUI() as webui:
        backends = [
            BackendSettings(name="a", url=webui.url),
            BackendSettings(name="b", url=webui.url + "/"),
        ]
        lines = await collect_lines(build_settings(tmp_path, backends))

    warning = next(line for line in lines if line.startswith("WARN backend b"))
    assert "uses the same WebUI as backend a" in warning
    assert not [line for line in lines if line.startswith("WARN backend a")]


async def test_run_checks_embedded_without_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = BackendSettings(name="embedded", url="embedded")

    exit_code = await run_in_thread(build_settings(tmp_path, [backend]))

    stdout = capsys.readouterr().out
    assert exit_code == 0
    assert f"OK   backend embedded: {EMBEDDED_DESCRIPTION}" in stdout
    assert "WARN discord token: not set, so `imagine-bot run` starts the offline demo" in stdout
    assert "reachable" not in stdout


async def test_run_checks_embedded_with_token_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = BackendSettings(name="embedded", url="embedded")

    exit_code = await run_in_thread(build_settings(tmp_path, [backend], token=fake_token()))

    stdout = capsys.readouterr().out
    assert exit_code == 0
    assert f"WARN backend embedded: {EMBEDDED_DESCRIPTION} while a Discord token is set" in stdout
    assert "set this backend's url to your WebUI" in stdout


async def test_run_checks_malformed_token_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "Bot " + fake_token()
    settings = build_settings(tmp_path, [BackendSettings(name="e", url="embedded")], token=token)

    exit_code = await run_in_thread(settings)

    stdout = capsys.readouterr().out
    assert exit_code == 1
    assert "FAIL discord token: discord.token in config.toml is malformed" in stdout
    assert fake_token() not in stdout
    assert f"({len(token)} characters)" in stdout


def test_check_token_missing() -> None:
    result = check_token(None, source="discord.token in config.toml")

    assert result.status is Status.WARN
    assert "offline demo" in result.message
    assert "DISCORD_TOKEN" in result.message


def test_check_token_well_formed() -> None:
    token = fake_token()

    result = check_token(SecretStr(token), source="discord.token in config.toml")

    assert result.status is Status.OK
    assert str(result) == f"OK   discord token: well-formed ({len(token)} characters)"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("Bot " + fake_token(), "starts with 'Bot '"),
        ('"' + fake_token() + '"', "is wrapped in quotes"),
        (fake_token() + "\n", "contains spaces or line breaks"),
        ("123456789012345678", "has no dots"),
        (fake_token() + ".extra", "is not three base64url parts"),
        (fake_token().replace(".", "+.", 1), "is not three base64url parts"),
        ("aGVsbG8." + fake_token().split(".", 1)[1], "does not start with the bot's numeric id"),
        ("." + fake_token().split(".", 1)[1], "is not three base64url parts"),
        ("", "is empty"),
    ],
)
def test_check_token_malformed(token: str, problem: str) -> None:
    result = check_token(SecretStr(token), source="environment variable DISCORD_TOKEN")

    assert result.status is Status.FAIL
    assert result.message.startswith("environment variable DISCORD_TOKEN is malformed")
    assert problem in result.message
    assert TOKEN_FIX in result.message
    if token:
        assert token.strip().strip('"') not in result.message
    assert f"({len(token)} characters)" in result.message


def test_token_source_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert token_source(None) == "discord.token in config.toml"
    assert token_source(Path("bot.toml")) == "discord.token in bot.toml"
    monkeypatch.setenv("DISCORD_TOKEN", "x")
    assert token_source(None) == "environment variable DISCORD_TOKEN"
    monkeypatch.setenv("IMAGINE_DISCORD__TOKEN", "x")
    assert token_source(None) == "environment variable IMAGINE_DISCORD__TOKEN"


def test_check_storage_usable(tmp_path: Path) -> None:
    result = check_storage(StorageSettings(data_dir=tmp_path / "new" / "data"))

    assert result.status is Status.OK


def test_check_storage_unwritable_even_for_root() -> None:
    # Creating anything under /proc fails for every user, root included.
    result = check_storage(StorageSettings(data_dir=Path("/proc/imagine-check")))

    assert result.status is Status.FAIL
    assert "/proc is not writable" in result.message


def test_check_storage_leaves_nothing_behind(tmp_path: Path) -> None:
    check_storage(StorageSettings(data_dir=tmp_path / "data"))

    assert list(tmp_path.iterdir()) == []


def test_check_storage_data_dir_is_file(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")

    result = check_storage(StorageSettings(data_dir=blocker / "sub"))

    assert result.status is Status.FAIL
    assert f"storage.data_dir '{blocker / 'sub'}' is unusable" in result.message
    assert f"{blocker} is not a directory" in result.message


def test_check_storage_database_is_directory(tmp_path: Path) -> None:
    database = tmp_path / "jobs.db"
    database.mkdir()

    result = check_storage(StorageSettings(data_dir=tmp_path, database=database))

    assert result.status is Status.FAIL
    assert f"storage.database '{database}'" in result.message
    assert "is a directory" in result.message


def test_check_storage_database_directory_missing(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "jobs.db"

    result = check_storage(StorageSettings(data_dir=tmp_path / "data", database=database))

    assert result.status is Status.FAIL
    assert f"storage.database '{database}' is unusable" in result.message
    assert f"{database.parent} does not exist" in result.message


def test_check_storage_database_in_new_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    result = check_storage(StorageSettings(data_dir=data_dir, database=data_dir / "jobs.db"))

    assert result.status is Status.OK


def test_check_config_file_names_source(tmp_path: Path) -> None:
    assert check_config_file(Path("bot.toml")).message == "read bot.toml"
    assert "no config.toml in this directory" in check_config_file(None).message
    (tmp_path / "config.toml").write_text("")
    assert check_config_file(None).message == "read config.toml"


def test_format_report_counts_statuses() -> None:
    results = [
        CheckResult(Status.OK, "config", "read config.toml"),
        CheckResult(Status.WARN, "discord token", "not set"),
        CheckResult(Status.FAIL, "backend a (http://127.0.0.1:1)", "not reachable"),
    ]

    report = format_report(results).splitlines()

    assert report[:3] == [
        "OK   config: read config.toml",
        "WARN discord token: not set",
        "FAIL backend a (http://127.0.0.1:1): not reachable",
    ]
    assert report[3] == "summary: 1 OK, 1 WARN, 1 FAIL; fix each FAIL line, then check again"


def test_check_command_line_names_down_backend(tmp_path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    config = tmp_path / "c.toml"
    config.write_text('[[backends]]\nname = "down"\nurl = "http://127.0.0.1:9"\n', encoding="utf-8")

    completed = subprocess.run(
        [sys.executable, str(root / "bot.py"), "check", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )

    assert completed.returncode == 1
    assert "FAIL" in completed.stdout
    assert "down (http://127.0.0.1:9)" in completed.stdout
    assert "Traceback" not in completed.stderr
