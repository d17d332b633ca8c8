"""Rate limits: per-route buckets keyed like Discord's, and the global 50 requests/s per bot."""

from __future__ import annotations

import enum
import hashlib
import math
import time
from dataclasses import dataclass, field

from tests.fakediscord.clock import FakeClock

# Value of the Via header on 429s. discord.py 2.7 treats a 429 without Via as a Cloudflare ban.
VIA = "1.1 google"
RATE_LIMITED_MESSAGE = "You are being rate limited."


class BucketKind(enum.Enum):
    """Which bucket a route uses, and so which major parameter keys it."""

    CHANNEL_MESSAGES = "channel_messages"
    INTERACTION_TOKEN = "interaction_token"
    DM_CREATE = "dm_create"
    OTHER = "other"


@dataclass(frozen=True)
class BucketLimit:
    """``limit`` requests per fixed window of ``window_s`` fake seconds."""

    limit: int
    window_s: float


@dataclass(frozen=True)
class BucketConfig:
    """Bucket sizes and windows. Discord does not publish per-route limits.

    The defaults follow commonly reported values: about 5 message creates or edits per 5 s per
    channel and 5 requests per 2 s per webhook. The global 50 requests/s per bot is the one
    number Discord publishes.
    """

    channel_messages: BucketLimit = BucketLimit(5, 5.0)
    interaction_token: BucketLimit = BucketLimit(5, 2.0)
    # NOTE: guessed; Discord publishes no figure for opening DMs.
    dm_create: BucketLimit = BucketLimit(5, 5.0)
    # NOTE: guessed; a generous limit for login, command sync and channel reads.
    other: BucketLimit = BucketLimit(50, 1.0)
    global_requests: BucketLimit = BucketLimit(50, 1.0)

    def for_kind(self, kind: BucketKind) -> BucketLimit:
        """Return the limit of the buckets of ``kind``."""
        limit: BucketLimit = getattr(self, kind.value)
        return limit


@dataclass
class Window:
    """The state of one bucket: requests left and when the current window ends (fake time)."""

    limit: BucketLimit
    remaining: int = 0
    reset_at: float = 0.0

    def take(self, now: float) -> bool:
        """Use one request of the window and return True, or return False if none is left."""
        if now >= self.reset_at:
            self.remaining = self.limit.limit
            self.reset_at = now + self.limit.window_s
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


@dataclass(frozen=True)
class Verdict:
    """The outcome of a rate-limit check: allowed or not, and the headers to send."""

    allowed: bool
    headers: dict[str, str]
    retry_after_s: float = 0.0
    scope: str = "user"
    is_global: bool = False


@dataclass
class RateLimiter:
    """Fixed-window buckets on the fake clock, with headers in real seconds for the client."""

    config: BucketConfig
    clock: FakeClock
    _buckets: dict[tuple[str, str], Window] = field(default_factory=dict)
    _global: dict[str, Window] = field(default_factory=dict)

    def take_global(self, bot_key: str) -> Verdict:
        """Count one request against the bot's global limit."""
        now = self.clock.now()
        window = self._global.setdefault(bot_key, Window(self.config.global_requests))
        if window.take(now):
            return Verdict(True, {})
        retry_after = window.reset_at - now
        headers = {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
        return Verdict(False, headers, retry_after, scope="global", is_global=True)

    def take(self, bucket_name: str, limit: BucketLimit, key: str) -> Verdict:
        """Count one request against bucket ``bucket_name`` for major parameter ``key``."""
        now = self.clock.now()
        window = self._buckets.setdefault((bucket_name, key), Window(limit))
        allowed = window.take(now)
        retry_after = max(window.reset_at - now, 0.0)
        headers = self._bucket_headers(bucket_name, window, retry_after)
        if not allowed:
            headers["X-RateLimit-Scope"] = "user"
        return Verdict(allowed, headers, retry_after)

    def real_seconds(self, fake_seconds: float) -> float:
        """Convert a fake duration to real seconds, rounded up to the millisecond."""
        return math.ceil(self.clock.to_real(fake_seconds) * 1000) / 1000

    def _bucket_headers(
        self, bucket_name: str, window: Window, retry_after: float
    ) -> dict[str, str]:
        reset_after = self.real_seconds(retry_after)
        return {
            "X-RateLimit-Limit": str(window.limit.limit),
            "X-RateLimit-Remaining": str(window.remaining),
            # Reset is wall-clock Unix time, which a client compares with its own clock.
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(bucket_name),
        }


def bucket_hash(bucket_name: str) -> str:
    """Return the opaque X-RateLimit-Bucket value of a bucket, stable across runs."""
    return hashlib.md5(bucket_name.encode(), usedforsecurity=False).hexdigest()


def rate_limited_body(retry_after_real: float, *, is_global: bool) -> dict[str, object]:
    """Build the JSON body of a 429."""
    return {"message": RATE_LIMITED_MESSAGE, "retry_after": retry_after_real, "global": is_global}


def retry_after_header(retry_after_real: float) -> str:
    """Format Retry-After, which HTTP defines as whole seconds, rounded up."""
    return str(math.ceil(retry_after_real))
