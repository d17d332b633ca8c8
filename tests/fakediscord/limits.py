"""Discord's message limits, raised as 400/50035, 400/50006 and 413/40005 errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.fakediscord.errors import ApiError

# Discord rejects bot messages over 2,000 characters, although the spec's MessageCreateRequest
# allows 4,000, which is the limit for Nitro users.
MAX_CONTENT_LENGTH = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_EMBED_FIELDS = 25
# Per-embed text limits in characters, as in the RichEmbed schemas of discord-openapi.json.
EMBED_TEXT_LIMITS: dict[tuple[str, ...], int] = {
    ("title",): 256,
    ("description",): 4096,
    ("footer", "text"): 2048,
    ("author", "name"): 256,
}
FIELD_TEXT_LIMITS = {"name": 256, "value": 1024}


class FormErrors:
    """Discord's nested ``errors`` object of a 400/50035 Invalid Form Body response."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        """Add one error at ``path``, such as ``("embeds", 0, "title")``."""
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def raise_if_any(self) -> None:
        """Raise 400/50035 with the collected errors, if there are any."""
        if self.tree:
            raise ApiError(400, 50035, errors=self.tree)


def check_message_body(payload: dict[str, Any], *, creating: bool, file_count: int) -> None:
    """Raise ApiError if the message fields of ``payload`` break Discord's limits.

    Content over 2,000 characters and embeds over their limits give 400/50035. A new message
    with no content, embeds, components, stickers, poll or files gives 400/50006.
    """
    errors = FormErrors()
    content = payload.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT_LENGTH:
        errors.add(("content",), "BASE_TYPE_MAX_LENGTH", _max_length_message(MAX_CONTENT_LENGTH))
    embeds = payload.get("embeds") or []
    _check_embeds(embeds, errors)
    errors.raise_if_any()
    if creating and file_count == 0 and _is_empty(payload):
        raise ApiError(400, 50006)


def check_upload_sizes(sizes: Sequence[int], limit: int) -> None:
    """Raise 413/40005 if any file is larger than ``limit`` bytes."""
    if any(size > limit for size in sizes):
        raise ApiError(413, 40005)


def _check_embeds(embeds: list[dict[str, Any]], errors: FormErrors) -> None:
    if len(embeds) > MAX_EMBEDS:
        errors.add(("embeds",), "BASE_TYPE_MAX_LENGTH", _max_length_message(MAX_EMBEDS))
    total = 0
    for index, embed in enumerate(embeds):
        total += _check_embed(index, embed, errors)
    if total > MAX_EMBED_TOTAL:
        message = f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"
        errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", message)


def _check_embed(index: int, embed: dict[str, Any], errors: FormErrors) -> int:
    """Add the errors of one embed and return its character count towards the 6,000 total."""
    total = 0
    for path, limit in EMBED_TEXT_LIMITS.items():
        text = _text_at(embed, path)
        total += len(text)
        if len(text) > limit:
            errors.add(("embeds", index, *path), "BASE_TYPE_MAX_LENGTH", _max_length_message(limit))
    fields = embed.get("fields") or []
    if len(fields) > MAX_EMBED_FIELDS:
        message = _max_length_message(MAX_EMBED_FIELDS)
        errors.add(("embeds", index, "fields"), "BASE_TYPE_MAX_LENGTH", message)
    for field_index, embed_field in enumerate(fields):
        for key, limit in FIELD_TEXT_LIMITS.items():
            text = str(embed_field.get(key) or "")
            total += len(text)
            if len(text) > limit:
                field_path = ("embeds", index, "fields", field_index, key)
                errors.add(field_path, "BASE_TYPE_MAX_LENGTH", _max_length_message(limit))
    return total


def _text_at(embed: dict[str, Any], path: tuple[str, ...]) -> str:
    node: Any = embed
    for key in path:
        if not isinstance(node, dict):
            return ""
        node = node.get(key)
    return node if isinstance(node, str) else ""


def _is_empty(payload: dict[str, Any]) -> bool:
    keys = ("content", "embeds", "components", "sticker_ids", "poll")
    return not any(payload.get(key) for key in keys)


def _max_length_message(limit: int) -> str:
    return f"Must be {limit} or fewer in length."
