"""Injected faults: the next N requests on a route get a chosen error or 429 instead of a reply."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tests.fakediscord.errors import UnknownRouteError

# Retry-After of an injected 429 when the test names none, in fake seconds.
DEFAULT_RETRY_AFTER_S = 1.0


@dataclass
class Fault:
    """One armed fault. ``remaining`` is the number of requests it still applies to."""

    method: str
    pattern: str
    status: int
    code: int
    remaining: int
    retry_after_s: float

    def matches(self, method: str, template: str, path: str) -> bool:
        """Whether the fault applies to a request, by method and template or concrete path."""
        if self.method not in ("*", method):
            return False
        return fnmatch.fnmatchcase(template, self.pattern) or fnmatch.fnmatchcase(
            path, self.pattern
        )


@dataclass
class FaultTable:
    """Armed faults, checked in the order they were armed."""

    templates: Iterable[str]
    faults: list[Fault] = field(default_factory=list)

    def arm(
        self,
        method: str,
        pattern: str,
        *,
        status: int,
        code: int | None = None,
        count: int = 1,
        retry_after: float | None = None,
    ) -> Fault:
        """Arm a fault for the next ``count`` requests whose route matches ``pattern``.

        ``pattern`` is a route template such as ``/channels/{channel_id}/messages``, a concrete
        path such as ``/channels/123/messages``, or an fnmatch pattern over either.
        """
        if not self._pattern_is_served(pattern):
            raise UnknownRouteError(pattern)
        fault = Fault(
            method=method.upper(),
            pattern=pattern,
            status=status,
            code=0 if code is None else code,
            remaining=count,
            retry_after_s=DEFAULT_RETRY_AFTER_S if retry_after is None else retry_after,
        )
        self.faults.append(fault)
        return fault

    def take(self, method: str, template: str, path: str) -> Fault | None:
        """Return the first armed fault for the request and use up one of its requests."""
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(method, template, path):
                fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        """Disarm every fault."""
        self.faults.clear()

    def _pattern_is_served(self, pattern: str) -> bool:
        for template in self.templates:
            if fnmatch.fnmatchcase(template, pattern):
                return True
            if _template_regex(template).fullmatch(pattern):
                return True
        return False


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))
