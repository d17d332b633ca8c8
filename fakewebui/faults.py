"""Failures that tests arm for the next txt2img requests.

Each armed fault is used up by one txt2img request that passed body validation, in the order the
faults were armed:

- ``error_500``: 500 with A1111's exception shape, error ``Exception``.
- ``oom``: 500 with error ``OutOfMemoryError`` and a CUDA out-of-memory message.
- ``hang``: no response until the faults are cleared (then the request runs normally) or the
  server stops (then its connection is closed). It does not hold the generation lock.
- ``broken_image``: every image is invalid base64 whose lenient decoding is a truncated PNG.
- ``wrong_size``: the images are half the requested width and height.
- ``empty_images``: 200 with ``"images": []``.
- ``disconnect``: the connection is closed without a response.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from fakewebui.errors import InvalidFaultCountError, UnknownFaultError

logger = logging.getLogger(__name__)

FAULT_KINDS: tuple[str, ...] = (
    "error_500",
    "oom",
    "hang",
    "broken_image",
    "wrong_size",
    "empty_images",
    "disconnect",
)


GPU_TOTAL_GIB = 23.99


def oom_message(gib: float) -> str:
    """Return a CUDA out-of-memory message like PyTorch's for an allocation of ``gib`` GiB."""
    return (
        f"CUDA out of memory. Tried to allocate {gib:.2f} GiB "
        f"(GPU 0; {GPU_TOTAL_GIB} GiB total capacity)"
    )


class FaultQueue:
    """Faults armed for upcoming txt2img requests, first armed first used."""

    def __init__(self) -> None:
        self._pending: deque[str] = deque()
        self._generation = 0
        self._cleared: asyncio.Event | None = None

    def arm(self, kind: str, count: int = 1) -> None:
        """Arm ``kind`` for the next ``count`` txt2img requests.

        Raises:
            UnknownFaultError: ``kind`` is not one of ``FAULT_KINDS``.
            InvalidFaultCountError: ``count`` is below 1.
        """
        if kind not in FAULT_KINDS:
            raise UnknownFaultError(kind, FAULT_KINDS)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidFaultCountError(count)
        self._pending.extend([kind] * count)
        logger.info("armed fault %s for %d txt2img request(s)", kind, count)

    def clear(self) -> None:
        """Drop every armed fault and release the requests that hang."""
        self._pending.clear()
        self._generation += 1
        if self._cleared is not None:
            self._cleared.set()
            self._cleared = None
        logger.info("cleared faults")

    def take(self) -> str | None:
        """Use up and return the next armed fault, or None when none is armed."""
        return self._pending.popleft() if self._pending else None

    def pending(self) -> list[str]:
        """Return the armed faults in the order they will be used."""
        return list(self._pending)

    async def wait_cleared(self) -> None:
        """Wait until ``clear()`` is called after this call started."""
        generation = self._generation
        while generation == self._generation:
            if self._cleared is None:
                self._cleared = asyncio.Event()
            await self._cleared.wait()
