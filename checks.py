"""The ``imagine-bot check`` command: check the configuration, the token and every backend.

Each check yields one report line with an OK, WARN or FAIL prefix. Only FAIL lines make the
command exit non-zero, because a WARN names something the bot can still run with.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import errno
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiohttp
from pydantic import SecretStr
from yarl import URL

from sdclient import (
    BackendDisconnectedError,
    BackendRejectedError,
    BackendServerError,
    BackendTimeoutError,
    BackendUnreachableError,
    InvalidResultError,
    SDClient,
    SDError,
    SDModel,
)
from sdclient.responses import API_DISABLED_REASON
from settings import DEFAULT_CONFIG_PATH, BackendSettings, Settings, StorageSettings

logger = logging.getLogger(__name__)

# Upper bounds on the configured timeouts, so that checking a stopped backend takes seconds.
PROBE_CONNECT_TIMEOUT_S = 3.0
PROBE_REQUEST_TIMEOUT_S = 10.0
# Checks that one successful GET of /sdapi/v1/sd-models passes, in the order that they fail.
CONNECTION_STAGES = ("reachable", "API enabled")
MODELS_SHOWN = 3
SAMPLERS_SHOWN = 25
EMBEDDED_DESCRIPTION = "embedded stand-in (placeholder images, no GPU)"
TOKEN_FIX = "copy it again from the Developer Portal's Bot page (Reset Token)"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class Status(StrEnum):
    """Verdict of one check. Only FAIL changes the exit code."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of one check: its status, the thing checked and a sentence with the fix."""

    status: Status
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.status:<4} {self.subject}: {self.message}"


def run_checks(settings: Settings, *, config_path: Path | None) -> int:
    """Run every check, print the report to stdout and return the exit code (1 on any FAIL)."""
    results = asyncio.run(collect_checks(settings, config_path=config_path))
    print(format_report(results))
    return 1 if any(result.status is Status.FAIL for result in results) else 0


async def collect_checks(settings: Settings, *, config_path: Path | None) -> list[CheckResult]:
    """Check the config file, storage, token and backends, in report order."""
    results = [check_config_file(config_path), check_storage(settings.storage)]
    results.append(check_token(settings.discord.token, source=token_source(config_path)))
    results.extend(_check_shared_urls(settings.backends))
    async with aiohttp.ClientSession() as session:
        probes = [check_backend(session, backend, settings) for backend in settings.backends]
        for backend_results in await asyncio.gather(*probes):
            results.extend(backend_results)
    return results


def format_report(results: Sequence[CheckResult]) -> str:
    """Format one line per result and a summary line with the count of each status."""
    counts = {status: sum(result.status is status for result in results) for status in Status}
    verdict = "fix each FAIL line, then check again" if counts[Status.FAIL] else "nothing failed"
    summary = (
        f"summary: {counts[Status.OK]} OK, {counts[Status.WARN]} WARN, "
        f"{counts[Status.FAIL]} FAIL; {verdict}"
    )
    return "\n".join([*(str(result) for result in results), summary])


def check_config_file(config_path: Path | None) -> CheckResult:
    """Report which config file was read, or that none was."""
    path = DEFAULT_CONFIG_PATH if config_path is None else config_path
    message = f"read {path}"
    if config_path is None and not path.is_file():
        message = f"no {path} in this directory, so the defaults and the environment apply"
    return CheckResult(Status.OK, "config", message)


def check_storage(storage: StorageSettings) -> CheckResult:
    """Check that the data directory and the database file can be created and written."""
    database = storage.database_path
    key, path = "storage.data_dir", storage.data_dir
    problem = _directory_problem(storage.data_dir, creatable=True)
    if problem is None:
        key, path = "storage.database", database
        # Start-up creates storage.data_dir only, and SQLite creates no directories.
        creatable = database.parent.resolve() == storage.data_dir.resolve()
        problem = _directory_problem(database.parent, creatable=creatable)
    if problem is None and database.is_dir():
        problem = f"{database} is a directory"
    if problem is None:
        return CheckResult(Status.OK, "storage", f"{storage.data_dir} and {database} are usable")
    fix = f"set {key} to a path this user can write, or fix the permissions"
    return CheckResult(Status.FAIL, "storage", f"{key} {str(path)!r} is unusable: {problem}; {fix}")


def _directory_problem(directory: Path, *, creatable: bool) -> str | None:
    """Describe why ``directory`` cannot be used, or created if ``creatable``, or return None."""
    existing = directory
    try:
        # mkdir(parents=True) needs the nearest existing ancestor to be a writable directory.
        while not existing.exists():
            if not creatable:
                return f"{directory} does not exist"
            existing = existing.parent
    except OSError as exc:
        return f"{existing} cannot be read ({exc.strerror})"
    if not existing.is_dir():
        return f"{existing} is not a directory"
    # A real write, because os.access returns True for root even where writes fail (/proc, a
    # read-only mount).
    try:
        with tempfile.TemporaryDirectory(dir=existing, prefix=".imagine-check-"):
            pass
    except OSError as exc:
        return f"{existing} is not writable by this user ({exc.strerror})"
    return None


def token_source(config_path: Path | None) -> str:
    """Name where the token came from, following the precedence of ``load_settings``."""
    names = {name.upper(): value for name, value in os.environ.items()}
    if "IMAGINE_DISCORD__TOKEN" in names:
        return "environment variable IMAGINE_DISCORD__TOKEN"
    if names.get("DISCORD_TOKEN"):
        return "environment variable DISCORD_TOKEN"
    return f"discord.token in {config_path or DEFAULT_CONFIG_PATH}"


def check_token(token: SecretStr | None, *, source: str) -> CheckResult:
    """Check that the token has the form of a Discord bot token, without contacting Discord."""
    if token is None:
        message = (
            "not set, so `imagine-bot run` starts the offline demo; set DISCORD_TOKEN or "
            "discord.token to run on Discord"
        )
        return CheckResult(Status.WARN, "discord token", message)
    text = token.get_secret_value()
    problem = token_problem(text)
    if problem is None:
        return CheckResult(Status.OK, "discord token", f"well-formed ({len(text)} characters)")
    message = (
        f"{source} is malformed ({len(text)} characters): it {problem}; {TOKEN_FIX} into {source}"
    )
    return CheckResult(Status.FAIL, "discord token", message)


def token_problem(token: str) -> str | None:
    """Describe what is wrong with the form of a bot token, or return None when nothing is."""
    if token.lower().startswith("bot "):
        return "starts with 'Bot ', which discord.py adds itself, so remove that prefix"
    if not token:
        return "is empty"
    if token[0] in "\"'" or token[-1] in "\"'":
        return "is wrapped in quotes, so remove them"
    if any(character.isspace() for character in token):
        return "contains spaces or line breaks"
    parts = token.split(".")
    if len(parts) == 1:
        return "has no dots (an application id, public key or client secret has none)"
    if len(parts) != 3 or not all(_BASE64URL.fullmatch(part) for part in parts):
        return "is not three base64url parts (A-Z, a-z, 0-9, - and _) separated by dots"
    if _decode_bot_id(parts[0]) is None:
        return "does not start with the bot's numeric id in base64"
    return None


def _decode_bot_id(part: str) -> int | None:
    try:
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() and int(decoded) > 0 else None


def display_url(url: str) -> str:
    """Return ``url`` without a username or password, so that it can be shown."""
    return str(URL(url).with_user(None))


def _check_shared_urls(backends: Sequence[BackendSettings]) -> list[CheckResult]:
    first_by_url: dict[tuple[str, str | None, int | None, str], str] = {}
    results = []
    for backend in backends:
        if backend.embedded:
            continue
        parsed = URL(backend.url)
        key = (parsed.scheme, parsed.host, parsed.port, parsed.path.rstrip("/"))
        if key not in first_by_url:
            first_by_url[key] = backend.name
            continue
        message = (
            f"uses the same WebUI as backend {first_by_url[key]} ({display_url(backend.url)}), "
            f"which runs one job at a time and lets a cancel in one worker interrupt the "
            f"other's job; remove one of the two"
        )
        results.append(CheckResult(Status.WARN, f"backend {backend.name}", message))
    return results


async def check_backend(
    session: aiohttp.ClientSession, backend: BackendSettings, settings: Settings
) -> list[CheckResult]:
    """Probe one backend: connection, API, credentials, models, samplers and default sampler."""
    if backend.embedded:
        return [_check_embedded(backend, settings)]
    url = display_url(backend.url)
    subject = f"backend {backend.name} ({url})"
    results = _check_credential_settings(subject, backend)
    if any(result.status is Status.FAIL for result in results):
        return results
    client = _probe_client(session, backend)
    logger.debug("probing backend %s at %s", backend.name, url)
    try:
        models = await client.sd_models()
    except SDError as exc:
        return [*results, *_describe_connection_failure(subject, backend, exc)]
    results.extend(_passed_stages(subject, len(CONNECTION_STAGES)))
    credentials = "accepted" if _sends_credentials(backend) else "not required"
    results.append(CheckResult(Status.OK, subject, f"credentials {credentials}"))
    results.append(_check_models(subject, models))
    try:
        samplers = await client.samplers()
    except SDError as exc:
        message = f"listing samplers failed: {_describe_error(exc)}"
        return [*results, CheckResult(Status.FAIL, subject, message)]
    return [*results, *_check_samplers(subject, samplers, settings.limits.default_sampler)]


def _check_embedded(backend: BackendSettings, settings: Settings) -> CheckResult:
    subject = f"backend {backend.name}"
    if settings.discord.token is None:
        return CheckResult(Status.OK, subject, EMBEDDED_DESCRIPTION)
    message = (
        f"{EMBEDDED_DESCRIPTION} while a Discord token is set, so members get placeholder "
        f"images; set this backend's url to your WebUI, such as http://127.0.0.1:7860"
    )
    return CheckResult(Status.WARN, subject, message)


def _check_credential_settings(subject: str, backend: BackendSettings) -> list[CheckResult]:
    if backend.password is not None and backend.username is None:
        message = (
            "password is set without username, so the password is not sent; "
            "set username to the user of the WebUI's --api-auth"
        )
        return [CheckResult(Status.WARN, subject, message)]
    return []


def _probe_client(session: aiohttp.ClientSession, backend: BackendSettings) -> SDClient:
    # `imagine-bot run` sends an empty password for a username without one, and so does the check.
    auth = None
    if backend.username is not None:
        password = backend.password.get_secret_value() if backend.password else ""
        auth = (backend.username, password)
    client = SDClient(
        session,
        backend.url,
        auth=auth,
        connect_timeout_s=min(backend.connect_timeout_s, PROBE_CONNECT_TIMEOUT_S),
        request_timeout_s=min(backend.request_timeout_s, PROBE_REQUEST_TIMEOUT_S),
    )
    # A check reports what it finds at once, so a refused connection is not retried.
    client.retry_delays_s = ()
    return client


def _describe_connection_failure(
    subject: str, backend: BackendSettings, exc: SDError
) -> list[CheckResult]:
    url = display_url(backend.url)
    if isinstance(exc, BackendUnreachableError | BackendTimeoutError):
        reason = _unreachable_reason(exc)
        message = f"not reachable at {url} ({reason}); is the WebUI running and is the URL right?"
        passed = 0
    elif isinstance(exc, BackendRejectedError) and exc.reason == API_DISABLED_REASON:
        passed, message = 1, _api_off_message(url)
    elif isinstance(exc, BackendRejectedError) and exc.status == 401:
        passed, message = 2, _auth_message(backend)
    else:
        passed, message = 1, f"listing models failed: {_describe_error(exc)}"
    return [*_passed_stages(subject, passed), CheckResult(Status.FAIL, subject, message)]


def _passed_stages(subject: str, count: int) -> list[CheckResult]:
    return [CheckResult(Status.OK, subject, stage) for stage in CONNECTION_STAGES[:count]]


def _unreachable_reason(exc: SDError) -> str:
    # The transport raises with the aiohttp exception as the cause, whose type is the failure kind.
    cause = exc.__cause__
    if isinstance(exc, BackendTimeoutError) or isinstance(cause, aiohttp.ConnectionTimeoutError):
        return "timed out"
    if isinstance(cause, aiohttp.ClientConnectorDNSError):
        return "host name not found"
    if isinstance(cause, aiohttp.ClientSSLError):
        return "TLS handshake failed"
    if isinstance(cause, aiohttp.ClientConnectorError) and cause.errno == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(exc, BackendDisconnectedError):
        return "the connection closed without a response"
    return exc.reason or "connection failed"


def _api_off_message(url: str) -> str:
    message = "the API is off; start the WebUI with --api (or --nowebui, default port 7861)"
    path = URL(url).path
    if path not in ("", "/"):
        # FastAPI returns the same 404 for a URL whose path is not the WebUI's root.
        message += f", or remove the path {path!r} from the URL"
    return message


def _sends_credentials(backend: BackendSettings) -> bool:
    return backend.username is not None or URL(backend.url).user is not None


def _auth_message(backend: BackendSettings) -> str:
    if _sends_credentials(backend):
        problem = "rejected the username/password"
    else:
        problem = "requires a username and password"
    return f"the WebUI {problem}; set this backend's username and password to match its --api-auth"


def _describe_error(exc: SDError) -> str:
    if isinstance(exc, BackendUnreachableError | BackendTimeoutError):
        return f"{_unreachable_reason(exc)}; check that the WebUI is still running"
    if isinstance(exc, BackendServerError):
        return f"HTTP {exc.status} ({exc.reason}); see the WebUI's console for the error"
    if isinstance(exc, InvalidResultError):
        return f"{exc.reason}; check that the URL points at a Stable Diffusion WebUI"
    if isinstance(exc, BackendRejectedError):
        return f"HTTP {exc.status} ({exc.reason}); check that the URL points at the WebUI itself"
    return str(exc)


def _check_models(subject: str, models: Sequence[SDModel]) -> CheckResult:
    if not models:
        message = (
            "no models found; put a checkpoint in models/Stable-diffusion and restart the WebUI"
        )
        return CheckResult(Status.FAIL, subject, message)
    names = ", ".join(model.model_name for model in models[:MODELS_SHOWN])
    more = f" and {len(models) - MODELS_SHOWN} more" if len(models) > MODELS_SHOWN else ""
    return CheckResult(Status.OK, subject, f"{len(models)} model(s): {names}{more}")


def _check_samplers(subject: str, samplers: Sequence[str], default: str) -> list[CheckResult]:
    if not samplers:
        message = "no samplers listed; see the WebUI's console for errors at start-up"
        return [CheckResult(Status.FAIL, subject, message)]
    listed = CheckResult(Status.OK, subject, f"{len(samplers)} samplers listed")
    # The bot matches sampler names without regard to case, and so does this check.
    if any(name.casefold() == default.casefold() for name in samplers):
        return [listed, CheckResult(Status.OK, subject, f"default sampler {default!r} offered")]
    offered = ", ".join(samplers[:SAMPLERS_SHOWN])
    message = (
        f"limits.default_sampler {default!r} is not offered, so requests without a sampler "
        f"use {samplers[0]!r}; set limits.default_sampler to one of: {offered}"
    )
    return [listed, CheckResult(Status.WARN, subject, message)]
