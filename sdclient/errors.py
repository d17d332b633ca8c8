"""Errors raised by SDClient, one class per outcome that a caller handles differently.

SDError
├── BackendUnreachableError (also ConnectionError): the request surely did not run
│   └── BackendDisconnectedError: the connection broke after sending, so it may have run
├── BackendRejectedError: HTTP 4xx, fix the request
├── BackendServerError: HTTP 5xx, `retryable` tells whether the request surely did not run
├── BackendTimeoutError (also TimeoutError): the time budget ran out, the job may still run
└── InvalidResultError: HTTP 2xx with an unusable result
    └── EmptyResultError: HTTP 2xx with no images, e.g. SD.Next with no model loaded
"""

from __future__ import annotations


class SDError(Exception):
    """Base class of every error that SDClient raises."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        body_excerpt: str | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.reason = reason
        self.body_excerpt = body_excerpt


class BackendUnreachableError(SDError, ConnectionError):
    """The connection failed before the request was sent (refused, DNS or connect timeout)."""

    may_have_run = False

    def __init__(self, *, url: str, reason: str) -> None:
        super().__init__(self._describe(url, reason), url=url, reason=reason)

    @staticmethod
    def _describe(url: str, reason: str) -> str:
        return (
            f"Could not connect to the WebUI for {url} ({reason}), so check that it is running "
            "and that the base URL is correct."
        )


class BackendDisconnectedError(BackendUnreachableError):
    """The server closed or reset the connection after the request was sent."""

    may_have_run = True

    @staticmethod
    def _describe(url: str, reason: str) -> str:
        return (
            f"The WebUI closed the connection during {url} ({reason}) and the request may have "
            "run, so read /sdapi/v1/progress before sending it again."
        )


class BackendRejectedError(SDError):
    """The backend responded with 4xx, and `reason` is the backend's own message."""

    def __init__(
        self, *, url: str, status: int, reason: str, body_excerpt: str | None = None
    ) -> None:
        super().__init__(
            f"The WebUI rejected {url} with HTTP {status} ({reason}), so fix the request "
            "before sending it again.",
            url=url,
            status=status,
            reason=reason,
            body_excerpt=body_excerpt,
        )


class BackendServerError(SDError):
    """The backend or a proxy in front of it responded with 5xx.

    `retryable` is True only when the request surely did not reach the WebUI's handler.
    `error_type` is the exception class name from an A1111 error body, such as
    "OutOfMemoryError".
    """

    def __init__(
        self,
        *,
        url: str,
        status: int,
        reason: str,
        error_type: str | None,
        retryable: bool,
        body_excerpt: str | None = None,
    ) -> None:
        kind = f" {error_type}" if error_type else ""
        advice = (
            "the request did not reach the WebUI, so it is safe to send again"
            if retryable
            else "the WebUI ran the request, so see its log before sending it again"
        )
        super().__init__(
            f"The WebUI failed on {url} with HTTP {status}{kind} ({reason}), and {advice}.",
            url=url,
            status=status,
            reason=reason,
            body_excerpt=body_excerpt,
        )
        self.error_type = error_type
        self.retryable = retryable


class BackendTimeoutError(SDError, TimeoutError):
    """The request did not finish within its time budget, and the backend may still be working."""

    def __init__(self, *, url: str, elapsed_s: float, budget_s: float) -> None:
        super().__init__(
            f"The WebUI did not finish {url} within the {budget_s:.1f} s budget "
            f"(gave up after {elapsed_s:.1f} s), so interrupt the job or raise the budget.",
            url=url,
            reason="timed out",
        )
        self.elapsed_s = elapsed_s
        self.budget_s = budget_s


class InvalidResultError(SDError):
    """The backend returned 2xx, but the body or its images are unusable."""

    def __init__(self, *, url: str, status: int, reason: str) -> None:
        super().__init__(
            f"The WebUI returned an unusable result from {url} ({reason}), so check the "
            "backend and its loaded model.",
            url=url,
            status=status,
            reason=reason,
        )


class EmptyResultError(InvalidResultError):
    """The backend returned 2xx with an empty images list.

    SD.Next does this when it has no model loaded, so the fix is on the backend, not in the
    request.
    """

    def __init__(self, *, url: str, status: int) -> None:
        SDError.__init__(
            self,
            f"The WebUI returned no images from {url}, which SD.Next does when it has no model "
            "loaded, so check that the backend can load its model.",
            url=url,
            status=status,
            reason="the response contained no images",
        )
