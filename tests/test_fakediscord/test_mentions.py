"""Mention resolution under allowed_mentions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakediscord.mentions import resolve_mentions

ALICE = 11
BOB = 22
ADMINS = 33
CONTENT = f"<@{ALICE}> <@!{BOB}> <@&{ADMINS}> @everyone <@999>"


def resolve(allowed: dict[str, Any] | None, *, replied_user: int | None = None) -> Any:
    return resolve_mentions(
        CONTENT,
        allowed,
        known_users={ALICE, BOB},
        known_roles={ADMINS},
        can_mention_everyone=True,
        replied_user=replied_user,
    )


def test_mentions_without_allowed_mentions_ping_all() -> None:
    mentions = resolve(None)

    assert mentions.users == [ALICE, BOB]
    assert mentions.roles == [ADMINS]
    assert mentions.everyone


def test_mentions_parse_empty_pings_nobody() -> None:
    mentions = resolve({"parse": []})

    assert mentions.users == []
    assert mentions.roles == []
    assert not mentions.everyone


@pytest.mark.parametrize(
    ("allowed", "users", "roles", "everyone"),
    [
        ({"parse": ["users"]}, [ALICE, BOB], [], False),
        ({"parse": ["roles", "everyone"]}, [], [ADMINS], True),
        ({"users": [str(BOB)]}, [BOB], [], False),
        ({"users": [BOB], "roles": [ADMINS]}, [BOB], [ADMINS], False),
    ],
)
def test_mentions_allowed_subsets(
    allowed: dict[str, Any], users: list[int], roles: list[int], everyone: bool
) -> None:
    mentions = resolve(allowed)

    assert mentions.users == users
    assert mentions.roles == roles
    assert mentions.everyone is everyone


def test_mentions_reply_pings_author_unless_suppressed() -> None:
    default = resolve({"parse": []}, replied_user=BOB)
    allowed = resolve({"parse": [], "replied_user": True}, replied_user=BOB)
    unrestricted = resolve(None, replied_user=44)

    assert default.users == []
    assert allowed.users == [BOB]
    assert unrestricted.users == [ALICE, BOB, 44]


def test_mentions_everyone_needs_permission() -> None:
    mentions = resolve_mentions(
        "@here", None, known_users=set(), known_roles=set(), can_mention_everyone=False
    )

    assert not mentions.everyone
