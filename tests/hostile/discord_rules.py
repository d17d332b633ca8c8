"""Assertions that a text or embed the bot sends fits Discord's limits and cannot ping anyone."""

from __future__ import annotations

import re
from typing import Any

import discord
import pytest

from tests.fakediscord import ApiError
from tests.fakediscord.limits import MAX_CONTENT_LENGTH, check_message_body

# Mass mentions as Discord parses them. An escaped one has a zero-width space after the @.
MASS_MENTION = re.compile(r"@(?:everyone|here)\b|<@&\d+>")
USER_MENTION = re.compile(r"<@!?(\d+)>")
# Discord shows a preview embed for a link unless the link is wrapped in angle brackets.
LINK = re.compile(r"https?://\w", re.IGNORECASE)
WRAPPED = re.compile(r"<[^<>\s]*>")


def assert_content_valid(content: str, *, requester_id: int | None = None, label: str = "") -> None:
    """Fail unless ``content`` fits a message and mentions no one but ``requester_id``.

    ``label`` names the message in the failure.
    """
    assert isinstance(content, str), label
    assert len(content) <= MAX_CONTENT_LENGTH, f"{label}: {len(content)} characters"
    _assert_accepted({"content": content}, label)
    assert_no_mentions(content, label, requester_id=requester_id)


def assert_no_mentions(text: str, label: str = "", *, requester_id: int | None = None) -> None:
    """Fail if ``text`` contains a mass mention or a mention of anyone but ``requester_id``."""
    assert MASS_MENTION.search(text) is None, f"{label}: {text!r}"
    mentioned = {int(user_id) for user_id in USER_MENTION.findall(text)}
    allowed = {requester_id} if requester_id is not None else set()
    assert mentioned <= allowed, f"{label}: {text!r}"


def assert_no_link_preview(text: str, label: str = "") -> None:
    """Fail if ``text`` contains a link that Discord would show with a preview."""
    assert LINK.search(WRAPPED.sub("", text)) is None, f"{label}: {text!r}"


def assert_embed_valid(embed: discord.Embed, label: str = "") -> None:
    """Fail unless ``embed`` fits Discord's embed limits and its texts contain no mention."""
    data = embed.to_dict()
    _assert_accepted({"embeds": [data]}, label)
    texts = [data.get("description") or "", (data.get("footer") or {}).get("text") or ""]
    for field in data.get("fields") or []:
        texts += [field["name"], field["value"]]
    for text in texts:
        assert_no_mentions(text, label)


def _assert_accepted(payload: dict[str, Any], label: str) -> None:
    try:
        check_message_body(payload, creating=False, file_count=0)
    except ApiError as error:
        pytest.fail(f"Discord would reject {label or 'this message'}: {error.errors}")
