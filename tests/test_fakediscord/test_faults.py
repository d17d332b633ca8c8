"""Fault patterns: which routes an injected fault matches, and how often it fires."""

from __future__ import annotations

import pytest

from tests.fakediscord import UnknownRouteError
from tests.fakediscord.faults import FaultTable

TEMPLATES = [
    "/channels/{channel_id}/messages",
    "/channels/{channel_id}/messages/{message_id}",
    "/users/@me",
]


def test_fault_matches_template_and_counts_down() -> None:
    table = FaultTable(TEMPLATES)
    table.arm("POST", "/channels/{channel_id}/messages", status=500, count=2)

    hits = [
        table.take("POST", "/channels/{channel_id}/messages", "/channels/1/messages")
        for _ in range(3)
    ]

    assert [hit is not None for hit in hits] == [True, True, False]


def test_fault_concrete_path_matches_one_channel() -> None:
    table = FaultTable(TEMPLATES)
    table.arm("POST", "/channels/7/messages", status=403, code=50007)

    other = table.take("POST", "/channels/{channel_id}/messages", "/channels/8/messages")
    same = table.take("POST", "/channels/{channel_id}/messages", "/channels/7/messages")

    assert other is None
    assert same is not None
    assert same.code == 50007


def test_fault_wildcard_method_and_pattern() -> None:
    table = FaultTable(TEMPLATES)
    table.arm("*", "/channels/*", status=502, count=5)

    patch = table.take(
        "PATCH", "/channels/{channel_id}/messages/{message_id}", "/channels/1/messages/2"
    )
    get_me = table.take("GET", "/users/@me", "/users/@me")

    assert patch is not None
    assert get_me is None


def test_fault_method_must_match() -> None:
    table = FaultTable(TEMPLATES)
    table.arm("PATCH", "/users/@me", status=500)

    assert table.take("GET", "/users/@me", "/users/@me") is None


def test_fault_unknown_route_raises() -> None:
    table = FaultTable(TEMPLATES)

    with pytest.raises(UnknownRouteError):
        table.arm("GET", "/guilds/{guild_id}", status=500)


def test_fault_clear_disarms() -> None:
    table = FaultTable(TEMPLATES)
    table.arm("GET", "/users/@me", status=500, count=3)

    table.clear()

    assert table.take("GET", "/users/@me", "/users/@me") is None
