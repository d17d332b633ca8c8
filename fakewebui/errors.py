"""Errors of the fake WebUI.

``FakeWebUIError`` is the base. The first group is raised to Python callers. The second group is
raised inside request handlers and turned into the matching A1111 response by the middleware.
"""

from __future__ import annotations

from typing import Any


class FakeWebUIError(Exception):
    """Base of every error raised by the fake WebUI."""


class UnknownFaultError(FakeWebUIError, ValueError):
    """A fault kind that the fake WebUI does not simulate."""

    def __init__(self, kind: str, known: tuple[str, ...]) -> None:
        super().__init__(f"Unknown fault kind {kind!r}. Use one of {', '.join(known)}.")
        self.kind = kind
        self.known = known


class InvalidFaultCountError(FakeWebUIError, ValueError):
    """A fault count below 1."""

    def __init__(self, count: object) -> None:
        super().__init__(f"Invalid fault count {count!r}. Pass an integer of at least 1.")
        self.count = count


class InvalidSpeedError(FakeWebUIError, ValueError):
    """A speed factor that is not a finite number above 0."""

    def __init__(self, speed: object) -> None:
        super().__init__(f"Invalid speed {speed!r}. Pass a finite number above 0, e.g. 1.0.")
        self.speed = speed


class InvalidModelListError(FakeWebUIError, ValueError):
    """A model list for an instance that is empty or has an unusable file name."""

    def __init__(self, names: object, reason: str) -> None:
        super().__init__(
            f"Invalid model list {names!r}: {reason}. Pass file names such as "
            "['v1-5-pruned-emaonly.safetensors', 'SDXL/juggernaut.safetensors']."
        )
        self.names = names
        self.reason = reason


class ServerNotStartedError(FakeWebUIError, RuntimeError):
    """A server property read before ``start()`` finished."""

    def __init__(self) -> None:
        super().__init__("The fake WebUI is not running. Await start() or use 'async with' first.")


class RequestValidationError(FakeWebUIError):
    """A request body that FastAPI would reject with 422 and a ``detail`` list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"Request body is invalid: {errors!r}")
        self.errors = errors


class APIHTTPError(FakeWebUIError):
    """An HTTPException that the A1111 API raises on purpose (error shape 2)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class SimulatedServerError(FakeWebUIError):
    """An exception inside an A1111 handler, returned as a 500 response (error shape 3)."""

    def __init__(self, error_name: str, message: str) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.message = message


class ConnectionDropped(FakeWebUIError):
    """A request to abandon by closing its connection without a response."""
