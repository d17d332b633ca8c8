"""Errors of the fake Discord.

``FakeDiscordError`` is the base. Most subclasses are raised to the Python code that drives the
fake. ``ApiError`` is raised inside request handlers, and the middleware turns it into Discord's
JSON error response.
"""

from __future__ import annotations

from typing import Any

# The message Discord sends with each JSON error code that this fake returns.
ERROR_MESSAGES: dict[int, str] = {
    10002: "Unknown Application",
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10008: "Unknown Message",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    40005: "Request entity too large",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50005: "Cannot edit a message authored by another user",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
    50027: "Invalid Webhook Token",
    50035: "Invalid Form Body",
    50109: "The request body contains invalid JSON.",
}

HTTP_REASONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def error_message(status: int, code: int) -> str:
    """Return the message Discord sends with ``code``, or ``"<status>: <reason>"`` for code 0."""
    if code in ERROR_MESSAGES:
        return ERROR_MESSAGES[code]
    return f"{status}: {HTTP_REASONS.get(status, 'Error')}"


class FakeDiscordError(Exception):
    """Base of every error raised by the fake Discord."""


class InvalidTimeScaleError(FakeDiscordError, ValueError):
    """A time scale that is not a finite number above 0."""

    def __init__(self, time_scale: object) -> None:
        super().__init__(f"Invalid time_scale {time_scale!r}. Pass a finite number above 0.")
        self.time_scale = time_scale


class InvalidAdvanceError(FakeDiscordError, ValueError):
    """A clock advance that is negative or not finite."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Invalid advance of {seconds!r} s. The fake clock only moves forward.")
        self.seconds = seconds


class ServerNotStartedError(FakeDiscordError, RuntimeError):
    """A property read or an action that needs the server before ``start()`` finished."""

    def __init__(self) -> None:
        super().__init__("The fake Discord is not running. Await start() or use 'async with'.")


class BotNotConnectedError(FakeDiscordError, RuntimeError):
    """An interaction sent while no bot has identified on the gateway."""

    def __init__(self) -> None:
        super().__init__(
            "No bot is connected to the fake gateway. Start the bot and wait for on_ready first."
        )


class WaitTimeoutError(FakeDiscordError, TimeoutError):
    """A condition that did not become true within the real-time timeout."""

    def __init__(self, timeout_s: float, request_count: int) -> None:
        super().__init__(
            f"Condition not met within {timeout_s} s of real time ({request_count} REST requests "
            "so far). Read fake.requests to see what the bot sent."
        )
        self.timeout_s = timeout_s
        self.request_count = request_count


class UnknownCommandError(FakeDiscordError, LookupError):
    """A slash command that the bot has not synced, so no Discord user could run it."""

    def __init__(self, name: str, known: list[str]) -> None:
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"Command {name!r} was not synced (synced: {listed}). Call bot.tree.sync() first."
        )
        self.name = name
        self.known = known


class InvalidOptionError(FakeDiscordError, ValueError):
    """A slash-command option that the synced command does not define or cannot take."""

    def __init__(self, command: str, option: str, problem: str) -> None:
        super().__init__(
            f"Option {option!r} of command {command!r} {problem}. "
            "Pass the options that the synced command defines."
        )
        self.command = command
        self.option = option
        self.problem = problem


class UnknownComponentError(FakeDiscordError, LookupError):
    """A click on a custom_id that the message has no component for."""

    def __init__(self, message_id: int, custom_id: str) -> None:
        super().__init__(
            f"Message {message_id} has no component with custom_id {custom_id!r}. "
            "Click a custom_id from message.custom_ids()."
        )
        self.message_id = message_id
        self.custom_id = custom_id


class UnknownRouteError(FakeDiscordError, ValueError):
    """A fault pattern that matches no route the fake serves."""

    def __init__(self, pattern: str) -> None:
        super().__init__(
            f"Route pattern {pattern!r} matches no route of the fake Discord. Use a template "
            "such as '/channels/{channel_id}/messages', a concrete path, or an fnmatch pattern."
        )
        self.pattern = pattern


class ApiError(FakeDiscordError):
    """A Discord API error that a request handler raises to be sent as the JSON error body."""

    def __init__(
        self,
        status: int,
        code: int = 0,
        *,
        errors: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.errors = errors
        self.message = message or error_message(status, code)
        super().__init__(f"{status} {code}: {self.message}")

    def body(self) -> dict[str, Any]:
        """Build the JSON error body in Discord's shape."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body
