"""The request log and the counters a benchmark reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Statuses that count towards Discord's invalid-request limit of 10,000 per 10 minutes per IP.
INVALID_REQUEST_STATUSES = frozenset({401, 403, 429})


@dataclass
class RecordedRequest:
    """One REST request: ``route`` is the template (or the raw path if no route matched).

    ``payload`` is the JSON body, or ``payload_json`` of a multipart body. ``files`` lists
    ``(filename, size in bytes)``. ``time`` is the fake time of arrival. ``status`` and ``code``
    (Discord's JSON error code, 0 for success) are set once the reply is sent.
    """

    method: str
    route: str
    path: str
    query: dict[str, str]
    payload: Any
    files: list[tuple[str, int]]
    time: float
    status: int | None = None
    code: int | None = None

    @property
    def key(self) -> str:
        """Method and route template, such as ``POST /channels/{channel_id}/messages``."""
        return f"{self.method} {self.route}"


@dataclass
class Stats:
    """Counters over every REST request the fake has responded to.

    ``expired_token_calls`` counts requests that used an interaction token older than 15 fake
    minutes, whatever the reply. ``invalid_requests`` counts 401, 403 and 429 replies except
    429s of scope "shared", which Discord leaves out of its invalid-request limit.
    """

    calls_by_route: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    expired_token_calls: int = 0
    invalid_requests: int = 0

    @property
    def total_calls(self) -> int:
        """Number of REST requests responded to."""
        return sum(self.calls_by_route.values())

    def count(self, record: RecordedRequest, *, scope: str | None) -> None:
        """Add a finished request to the counters."""
        assert record.status is not None
        self.calls_by_route[record.key] += 1
        self.statuses[record.status] += 1
        if record.status == 429:
            self.rate_limited += 1
        if record.status in INVALID_REQUEST_STATUSES and scope != "shared":
            self.invalid_requests += 1
