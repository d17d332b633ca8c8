"""Parsing of WebUI response bodies and classification of failed responses into SDError subclasses.

A1111, Forge and SD.Next send three JSON error shapes: FastAPI's `{"detail": str | list}`,
A1111's `{"error": "HTTPException", "detail": message, "body": "", "errors": ""}` for errors
the API raises on purpose, and `{"error": class name, "detail": "", "errors": str(exception)}`
for any other exception in a handler. Proxies in front of the WebUI send HTML instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sdclient.errors import BackendRejectedError, BackendServerError, SDError

EXCERPT_CHARS = 300
API_DISABLED_REASON = (
    "the WebUI API is not enabled, so start the WebUI with --api or check the base URL"
)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_WHITESPACE = re.compile(r"\s+")
# Field-location prefixes that FastAPI puts before the field name in 422 details.
_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header"})


def parse_json(body: bytes) -> Any:
    """Decode a JSON body, returning None when it is empty and raising ValueError when invalid."""
    if not body.strip():
        return None
    return json.loads(body)


def error_for_response(
    *, url: str, path: str, status: int, http_reason: str, body: bytes, location: str | None
) -> SDError:
    """Build the error for a response whose status is not 2xx."""
    text = body.decode("utf-8", errors="replace")
    try:
        payload = parse_json(body)
    except ValueError:
        payload = None
    excerpt = _collapse(text)[:EXCERPT_CHARS] or None
    fallback = _text_reason(text) or http_reason or f"HTTP {status}"
    if status >= 500:
        return BackendServerError(
            url=url,
            status=status,
            reason=_payload_reason(payload, ("errors", "detail", "error", "message")) or fallback,
            error_type=_error_type(payload),
            retryable=_is_retryable(status, payload),
            body_excerpt=excerpt,
        )
    return BackendRejectedError(
        url=url,
        status=status,
        reason=_rejection_reason(path, status, payload, location) or fallback,
        body_excerpt=excerpt,
    )


def _rejection_reason(path: str, status: int, payload: Any, location: str | None) -> str | None:
    # FastAPI returns this exact body for every /sdapi route when the WebUI runs without --api.
    if status == 404 and path.startswith("/sdapi/") and payload == {"detail": "Not Found"}:
        return API_DISABLED_REASON
    if 300 <= status < 400:
        return f"redirected to {location or 'an unknown location'}, so use that URL as base URL"
    return _payload_reason(payload, ("detail", "errors", "error", "message"))


def _payload_reason(payload: Any, keys: tuple[str, ...]) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in keys:
        value = payload.get(key)
        if isinstance(value, list) and value:
            return "; ".join(_describe_validation_item(item) for item in value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _describe_validation_item(item: Any) -> str:
    """Format one FastAPI validation error as "field: message"."""
    if not isinstance(item, dict):
        return str(item)
    location = item.get("loc")
    message = str(item.get("msg") or item.get("type") or "invalid value")
    if not isinstance(location, list | tuple):
        return message
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    return f"{'.'.join(parts)}: {message}" if parts else message


def _error_type(payload: Any) -> str | None:
    if isinstance(payload, dict):
        value = payload.get("error")
        if isinstance(value, str) and value:
            return value
    return None


def _is_retryable(status: int, payload: Any) -> bool:
    """Tell whether a 5xx response shows that the request never reached the WebUI's handler."""
    if isinstance(payload, dict) and "error" in payload:
        return False  # A1111's exception handler wrote this body, so the handler ran.
    if status == 504:
        return False  # A proxy gave up waiting, but the WebUI may still be generating.
    if status in (502, 503):
        return True
    return payload is None  # A non-JSON body comes from a proxy or server in front of the app.


def _text_reason(text: str) -> str | None:
    match = _HTML_TITLE.search(text)
    if match:
        return _collapse(match.group(1))[:EXCERPT_CHARS] or None
    for line in text.splitlines():
        if line.strip():
            return _collapse(line)[:EXCERPT_CHARS]
    return None


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()
