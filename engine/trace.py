"""Read request traces: JSON lines recorded from a public Stable Diffusion Discord channel."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

# The 2022 bot spelled samplers after the k-diffusion functions; these are the WebUI's names.
SAMPLER_NAMES = {
    "k_euler_ancestral": "Euler a",
    "k_euler": "Euler",
    "k_lms": "LMS",
    "k_heun": "Heun",
    "k_dpm_2": "DPM2",
    "k_dpm_2_ancestral": "DPM2 a",
    "ddim": "DDIM",
    "plms": "PLMS",
}


class TraceError(ValueError):
    """A trace file cannot be read; the message names the file, the line and the fix."""


@dataclass(frozen=True, slots=True)
class TraceRequest:
    """One recorded request, as the member would type it into /imagine."""

    user: str
    prompt: str
    seconds: float | None
    options: dict[str, Any]


_FIELDS = (
    "user",
    "prompt",
    "width",
    "height",
    "steps",
    "seed",
    "cfg_scale",
    "sampler",
    "n_images",
    "seconds",
)
_READ_FIELDS = ", ".join(_FIELDS)


def default_trace_path() -> Path:
    """Return the 500-request sample shipped with the package."""
    return Path(str(resources.files("engine") / "data" / "trace-sample.jsonl"))


def read_trace(path: Path) -> Iterator[TraceRequest]:
    """Yield the requests of a JSON-lines trace in file order.

    Raises:
        TraceError: the file cannot be read, is not UTF-8 text, or a line is not a JSON object
            with a string ``user`` and ``prompt`` and well-typed options.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TraceError(
            f"trace file {str(path)!r} cannot be read ({exc.strerror}); check the path"
        ) from None
    try:
        # utf-8-sig drops the byte order mark that some Windows editors write.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_number = data.count(b"\n", 0, exc.start) + 1
        raise TraceError(
            f"{path}:{line_number}: not UTF-8 text (byte 0x{data[exc.start]:02x}); a trace is "
            f"JSON lines in UTF-8, so convert the file or give another"
        ) from None
    # Only newlines end a record, because str.splitlines() would also split at U+2028 and other
    # breaks that JSON allows unescaped inside a prompt.
    ignored: Counter[str] = Counter()
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield _parse_line(path, number, line, ignored)
    if ignored:
        # A misspelled option would otherwise run with the default without a word. The recording
        # bot's own flags are true or false and are left out silently.
        listed = ", ".join(
            f"{key!r} ({count} line{'' if count == 1 else 's'})"
            for key, count in ignored.most_common(10)
        )
        _log.warning(
            "trace %s: ignored fields %s; the fields read are %s", path, listed, _READ_FIELDS
        )


class _FieldError(ValueError):
    """A field of one trace record is missing or has the wrong type."""


def _parse_line(path: Path, number: int, line: str, ignored: Counter[str]) -> TraceRequest:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise TraceError(
            f"{path}:{number}: not valid JSON ({exc}); each line must be a JSON object such as "
            f'{{"user": "a", "prompt": "a red fox"}}'
        ) from None
    if not isinstance(record, dict):
        raise TraceError(
            f"{path}:{number}: a JSON {type(record).__name__}, not an object; each line must be "
            f'a JSON object such as {{"user": "a", "prompt": "a red fox"}}'
        )
    ignored.update(
        key for key, value in record.items() if key not in _FIELDS and not isinstance(value, bool)
    )
    try:
        return _request(record)
    except _FieldError as exc:
        raise TraceError(f"{path}:{number}: {exc}; fix or remove that line") from None


def _request(record: dict[str, Any]) -> TraceRequest:
    # The recording bot stored an option typed without a value as true, as in "cfg_scale": true.
    # Such an option is left out, so the bot's default applies as it would for the member.
    given = {key: value for key, value in record.items() if not isinstance(value, bool)}
    options: dict[str, Any] = {}
    for key in ("width", "height", "steps", "seed"):
        if key in given:
            options[key] = _number(given, key, int)
    if "cfg_scale" in given:
        options["cfg_scale"] = _number(given, "cfg_scale", float)
    if "n_images" in given:
        options["count"] = _number(given, "n_images", int)
    if given.get("sampler"):
        sampler = _text(given, "sampler")
        options["sampler"] = SAMPLER_NAMES.get(sampler, sampler)
    return TraceRequest(
        user=_text(record, "user"),
        prompt=_text(record, "prompt"),
        seconds=_number(given, "seconds", float) if given.get("seconds") is not None else None,
        options=options,
    )


def _text(record: dict[str, Any], key: str) -> str:
    if record.get(key) is None:
        raise _FieldError(f"missing field {key!r}")
    value = record[key]
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _FieldError(f"invalid value {value!r} for {key!r}: expected a string")
    return str(value)


def _number(record: dict[str, Any], key: str, kind: type[int] | type[float]) -> Any:
    value = record[key]
    expected = "a whole number" if kind is int else "a number"
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        raise _FieldError(f"invalid value {value!r} for {key!r}: expected {expected}") from None
