"""Request bodies as Discord reads them: JSON, or multipart with ``payload_json`` and ``files[n]``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakediscord.errors import ApiError

FILE_FIELD = re.compile(r"files\[(\d+)\]")


@dataclass(frozen=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    index: int
    filename: str
    content_type: str | None
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Size of the file in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class RequestBody:
    """A parsed request body. ``payload`` is the JSON value, or ``payload_json`` in multipart."""

    payload: Any = None
    files: list[UploadedFile] = field(default_factory=list)
    multipart: bool = False

    @property
    def present(self) -> bool:
        """Whether the request carried a payload or any file."""
        return self.payload is not None or bool(self.files)

    def object(self) -> dict[str, Any]:
        """Return the payload as a JSON object, or raise 400/50035 if it is something else."""
        if self.payload is None:
            return {}
        if not isinstance(self.payload, dict):
            raise ApiError(400, 50035, message="Invalid Form Body: expected a JSON object.")
        return self.payload


async def read_body(request: web.Request) -> RequestBody:
    """Read and parse the body of ``request``.

    Raises:
        ApiError: 400/50109 for a body that is not valid JSON.
    """
    if not request.body_exists:
        return RequestBody()
    if request.content_type == "multipart/form-data":
        return await _read_multipart(request)
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        return RequestBody(payload={key: str(value) for key, value in form.items()})
    raw = await request.read()
    if not raw:
        return RequestBody()
    return RequestBody(payload=_parse_json(raw))


async def _read_multipart(request: web.Request) -> RequestBody:
    payload: dict[str, Any] | None = None
    fields: dict[str, Any] = {}
    files: list[UploadedFile] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        match = FILE_FIELD.fullmatch(name)
        if name == "payload_json":
            payload = _parse_json(await part.read())
        elif match is not None:
            data = bytes(await part.read())
            content_type = part.headers.get("Content-Type")
            filename = part.filename or name
            files.append(UploadedFile(int(match.group(1)), filename, content_type, data))
        else:
            # Discord also accepts message fields as plain form fields instead of payload_json.
            fields[name] = await part.text()
    merged = payload if payload is not None else (fields or None)
    return RequestBody(payload=merged, files=files, multipart=True)


def _parse_json(raw: bytes | bytearray) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, 50109, message="The request body contains invalid JSON.") from None
