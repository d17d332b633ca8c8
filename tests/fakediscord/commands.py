"""Synced application commands, and the ``data`` of a slash-command interaction built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakediscord.clock import SnowflakeGenerator
from tests.fakediscord.errors import InvalidOptionError, UnknownCommandError
from tests.fakediscord.models import FakeChannel, FakeGuild, FakeRole, FakeUser

# Application command option types (ApplicationCommandOptionType in discord-openapi.json).
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
CHAT_INPUT = 1


@dataclass
class CommandRegistry:
    """Commands as the last bulk overwrite left them, globally and per guild."""

    ids: SnowflakeGenerator
    application_id: int
    global_commands: list[dict[str, Any]] = field(default_factory=list)
    guild_commands: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def overwrite(
        self, guild_id: int | None, commands: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Replace the command list and return it with ids, as a bulk overwrite does.

        A command that keeps its name and type keeps its id, as on Discord.
        """
        previous = self.listed(guild_id)
        old_ids = {(command["name"], command.get("type", 1)): command["id"] for command in previous}
        stored = []
        for command in commands:
            kind = command.get("type", CHAT_INPUT)
            command_id = old_ids.get((command["name"], kind)) or str(self.ids.new_id())
            echoed = {
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                "id": command_id,
                "type": kind,
                "application_id": str(self.application_id),
                "version": str(self.ids.new_id()),
            }
            if guild_id is not None:
                echoed["guild_id"] = str(guild_id)
            stored.append(echoed)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        return stored

    def listed(self, guild_id: int | None) -> list[dict[str, Any]]:
        """Return the global commands, or those of one guild."""
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.get(guild_id, [])

    def find(self, name: str, guild_id: int | None) -> dict[str, Any]:
        """Return the chat-input command ``name`` visible in the guild, guild commands first."""
        visible = (
            [*self.listed(guild_id), *self.global_commands] if guild_id else self.global_commands
        )
        for command in visible:
            if command["name"] == name and command["type"] == CHAT_INPUT:
                return command
        raise UnknownCommandError(name, [command["name"] for command in visible])


def build_command_data(
    command: dict[str, Any],
    subcommands: list[str],
    options: dict[str, Any],
    guild: FakeGuild | None,
) -> dict[str, Any]:
    """Build the ``data`` of an INTERACTION_CREATE for ``command`` with ``options``.

    ``subcommands`` names the group and subcommand to run, if any. Option values are plain
    Python values, or FakeUser, FakeChannel and FakeRole objects for those option types.
    """
    resolved: dict[str, dict[str, Any]] = {}
    nodes = [command]
    for name in subcommands:
        nodes.append(_child(nodes[-1], name, command["name"]))
    leaf_options = _leaf_options(nodes[-1], options, guild, resolved)
    for node in reversed(nodes[1:]):
        leaf_options = [{"name": node["name"], "type": node["type"], "options": leaf_options}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": CHAT_INPUT,
        "options": leaf_options,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def _child(node: dict[str, Any], name: str, command_name: str) -> dict[str, Any]:
    for option in node.get("options", []):
        if option["name"] == name and option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            return option
    raise InvalidOptionError(command_name, name, "is not a subcommand or group of the command")


def _leaf_options(
    node: dict[str, Any],
    values: dict[str, Any],
    guild: FakeGuild | None,
    resolved: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    definitions = {option["name"]: option for option in node.get("options", [])}
    for name, definition in definitions.items():
        if definition.get("required") and name not in values:
            raise InvalidOptionError(node["name"], name, "is required but missing")
    built = []
    for name, value in values.items():
        definition = definitions.get(name)
        if definition is None:
            raise InvalidOptionError(node["name"], name, "is not an option of the command")
        option_value = _option_value(node["name"], definition, value, guild, resolved)
        built.append({"name": name, "type": definition["type"], "value": option_value})
    return built


def _option_value(
    command_name: str,
    definition: dict[str, Any],
    value: Any,
    guild: FakeGuild | None,
    resolved: dict[str, dict[str, Any]],
) -> Any:
    kind = definition["type"]
    if kind == STRING:
        return str(value)
    if kind == INTEGER:
        return int(value)
    if kind == BOOLEAN:
        return bool(value)
    if kind == NUMBER:
        return float(value)
    if kind in (USER, MENTIONABLE) and isinstance(value, FakeUser):
        resolved.setdefault("users", {})[str(value.id)] = value.payload()
        if guild is not None and value.id in guild.members:
            member = guild.members[value.id].payload(with_permissions=True)
            del member["user"]
            resolved.setdefault("members", {})[str(value.id)] = member
        return str(value.id)
    if kind == CHANNEL and isinstance(value, FakeChannel):
        channel = value.payload()
        channel["permissions"] = str(value.bot_permissions())
        resolved.setdefault("channels", {})[str(value.id)] = channel
        return str(value.id)
    if kind in (ROLE, MENTIONABLE) and isinstance(value, FakeRole):
        resolved.setdefault("roles", {})[str(value.id)] = value.payload()
        return str(value.id)
    problem = f"cannot take {value!r} because its option type is {kind}"
    raise InvalidOptionError(command_name, definition["name"], problem)
