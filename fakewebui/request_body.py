"""Read a request body the way FastAPI 0.94 does before validating it."""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

from aiohttp import web

from fakewebui.errors import APIHTTPError, RequestValidationError


async def read_json_body(request: web.Request) -> Any:
    """Return the parsed JSON body, raw bytes for a non-JSON content type, or None when empty.

    Raises:
        RequestValidationError: the body is not valid JSON (type ``value_error.jsondecode``).
        APIHTTPError: the body is not valid UTF-8 (400).
    """
    raw = await request.read()
    if not raw:
        return None
    content_type = request.headers.get("Content-Type")
    if content_type is not None and not _is_json(content_type):
        # FastAPI validates the raw bytes, which fail as "value is not a valid dict".
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError([_decode_error(exc)]) from None
    except UnicodeDecodeError:
        raise APIHTTPError(400, "There was an error parsing the body") from None


def _is_json(content_type: str) -> bool:
    message = Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def _decode_error(exc: json.JSONDecodeError) -> dict[str, Any]:
    return {
        "loc": ["body", exc.pos],
        "msg": str(exc),
        "type": "value_error.jsondecode",
        "ctx": {
            "msg": exc.msg,
            "doc": exc.doc,
            "pos": exc.pos,
            "lineno": exc.lineno,
            "colno": exc.colno,
        },
    }
