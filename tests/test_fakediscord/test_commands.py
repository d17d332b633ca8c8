"""Synced commands and the interaction data built from them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakediscord import FakeClock, InvalidOptionError, UnknownCommandError
from tests.fakediscord.clock import SnowflakeGenerator
from tests.fakediscord.commands import CommandRegistry, build_command_data
from tests.fakediscord.server import FakeDiscord

ADMIN: dict[str, Any] = {
    "name": "admin",
    "description": "Admin tools",
    "options": [
        {
            "type": 2,
            "name": "queue",
            "description": "Queue tools",
            "options": [
                {
                    "type": 1,
                    "name": "purge",
                    "description": "Drop jobs",
                    "options": [
                        {"type": 4, "name": "count", "description": "Jobs", "required": True},
                        {"type": 6, "name": "owner", "description": "Whose jobs"},
                    ],
                }
            ],
        }
    ],
}


def make_registry() -> CommandRegistry:
    return CommandRegistry(SnowflakeGenerator(FakeClock()), application_id=1)


def test_registry_overwrite_keeps_ids_of_same_name() -> None:
    registry = make_registry()
    first = registry.overwrite(None, [{"name": "ping", "description": "Ping"}])

    second = registry.overwrite(None, [{"name": "ping", "description": "Pong"}, ADMIN])

    assert second[0]["id"] == first[0]["id"]
    assert second[0]["description"] == "Pong"
    assert second[1]["id"] != first[0]["id"]
    assert [command["application_id"] for command in second] == ["1", "1"]


def test_registry_find_prefers_guild_commands() -> None:
    registry = make_registry()
    registry.overwrite(None, [{"name": "ping", "description": "global"}])
    registry.overwrite(5, [{"name": "ping", "description": "guild"}])

    assert registry.find("ping", 5)["description"] == "guild"
    assert registry.find("ping", None)["description"] == "global"
    with pytest.raises(UnknownCommandError):
        registry.find("missing", 5)


def test_build_command_data_nests_subcommands() -> None:
    registry = make_registry()
    (command,) = registry.overwrite(None, [ADMIN])

    data = build_command_data(command, ["queue", "purge"], {"count": "3"}, None)

    assert data["name"] == "admin"
    assert data["options"] == [
        {
            "name": "queue",
            "type": 2,
            "options": [
                {"name": "purge", "type": 1, "options": [{"name": "count", "type": 4, "value": 3}]}
            ],
        }
    ]


async def test_build_command_data_resolves_users() -> None:
    fake = FakeDiscord()
    guild = fake.create_guild("guild")
    bob = fake.create_user("bob")
    guild.add_member(bob)
    (command,) = fake.state.commands.overwrite(None, [ADMIN])

    data = build_command_data(command, ["queue", "purge"], {"count": 1, "owner": bob}, guild)

    leaf = data["options"][0]["options"][0]["options"]
    assert leaf[1] == {"name": "owner", "type": 6, "value": str(bob.id)}
    assert data["resolved"]["users"][str(bob.id)]["username"] == "bob"
    assert "user" not in data["resolved"]["members"][str(bob.id)]


@pytest.mark.parametrize(
    ("path", "options"),
    [
        (["queue", "purge"], {}),
        (["queue", "purge"], {"count": 1, "colour": "red"}),
        (["queue", "missing"], {"count": 1}),
        (["queue", "purge"], {"count": 1, "owner": "bob"}),
    ],
)
def test_build_command_data_invalid_options_raise(path: list[str], options: dict[str, Any]) -> None:
    (command,) = make_registry().overwrite(None, [ADMIN])

    with pytest.raises(InvalidOptionError):
        build_command_data(command, path, options, None)
