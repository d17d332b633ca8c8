"""Mention resolution: which users, roles and @everyone a message pings, given allowed_mentions."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(?:everyone|here)\b")


@dataclass(frozen=True)
class Mentions:
    """The pings of one message: user ids, role ids and whether @everyone or @here fired."""

    users: list[int]
    roles: list[int]
    everyone: bool


def resolve_mentions(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    *,
    known_users: Container[int],
    known_roles: Container[int],
    can_mention_everyone: bool,
    replied_user: int | None = None,
) -> Mentions:
    """Resolve the pings of ``content`` the way Discord applies ``allowed_mentions``.

    Without ``allowed_mentions`` every mention in the content pings, and so does the author of a
    replied-to message. With it, a user or role pings only if its type is in ``parse`` or its id
    is listed, @everyone only if ``parse`` has "everyone", and the replied-to author only if
    ``replied_user`` is true. Mentions of unknown users or roles never ping.
    """
    users = _unique_ids(USER_MENTION.findall(content), known_users)
    roles = _unique_ids(ROLE_MENTION.findall(content), known_roles)
    everyone = bool(EVERYONE_MENTION.search(content)) and can_mention_everyone
    ping_reply = replied_user is not None
    if allowed_mentions is not None:
        parse = set(allowed_mentions.get("parse") or [])
        listed_users = {int(user_id) for user_id in allowed_mentions.get("users") or []}
        listed_roles = {int(role_id) for role_id in allowed_mentions.get("roles") or []}
        users = [user_id for user_id in users if "users" in parse or user_id in listed_users]
        roles = [role_id for role_id in roles if "roles" in parse or role_id in listed_roles]
        everyone = everyone and "everyone" in parse
        ping_reply = ping_reply and bool(allowed_mentions.get("replied_user"))
    if ping_reply and replied_user is not None and replied_user not in users:
        users.append(replied_user)
    return Mentions(users=users, roles=roles, everyone=everyone)


def _unique_ids(matches: list[str], known: Container[int]) -> list[int]:
    ids: list[int] = []
    for match in matches:
        value = int(match)
        if value in known and value not in ids:
            ids.append(value)
    return ids
