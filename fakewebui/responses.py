"""JSON responses in the three body shapes that A1111 WebUI 1.10 sends.

1. FastAPI's own: ``{"detail": "Not Found"}`` or a ``detail`` list for request validation.
2. A1111's HTTPException shape: ``{"error": "HTTPException", "detail": msg, "body": "",
   "errors": ""}`` with the exception's status.
3. A1111's shape for any other exception: status 500, ``{"error": "<class name>", "detail": "",
   "body": "", "errors": str(exception)}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

JSON_CONTENT_TYPE = "application/json"


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Serialise ``data`` as compact JSON with Content-Type application/json."""
    # FastAPI's JSONResponse keeps non-ASCII characters and uses no spaces.
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return web.Response(
        body=body.encode("utf-8"), status=status, content_type=JSON_CONTENT_TYPE, headers=headers
    )


def detail_response(
    status: int, detail: Any, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Build FastAPI's default error body (shape 1)."""
    return json_response({"detail": detail}, status=status, headers=headers)


def http_exception_response(status: int, detail: str) -> web.Response:
    """Build A1111's body for a deliberate HTTPException (shape 2)."""
    body = {"error": "HTTPException", "detail": detail, "body": "", "errors": ""}
    return json_response(body, status=status)


def server_error_response(error_name: str, message: str) -> web.Response:
    """Build A1111's 500 body for an exception raised inside a handler (shape 3)."""
    body = {"error": error_name, "detail": "", "body": "", "errors": message}
    return json_response(body, status=500)
