"""Error bodies of A1111, Forge, SD.Next and proxies, mapped to SDError subclasses."""

from __future__ import annotations

from typing import Any

import pytest

from sdclient import BackendRejectedError, BackendServerError, SDClient, Txt2ImgRequest
from sdclient.responses import API_DISABLED_REASON

REQUEST = Txt2ImgRequest("a cat", width=64, height=64)

PROXY_502_HTML = """<html>
<head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.24.0</center></body>
</html>"""


async def post_txt2img(webui: Any, session: Any, **reply: Any) -> Exception:
    webui.reply("POST", "/sdapi/v1/txt2img", **reply)
    client = SDClient(session, webui.base_url)
    with pytest.raises(Exception) as caught:
        await client.txt2img(REQUEST)
    return caught.value


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        pytest.param(
            422,
            {
                "detail": [
                    {
                        "loc": ["body", "steps"],
                        "msg": "value is not a valid integer",
                        "type": "type_error.integer",
                    }
                ]
            },
            "steps: value is not a valid integer",
            id="422-pydantic-v1-list",
        ),
        pytest.param(
            422,
            {
                "detail": [
                    {"loc": ["body", "width"], "msg": "field required", "type": "missing"},
                    {"loc": ["body", "cfg_scale"], "msg": "not a float", "type": "float"},
                ]
            },
            "width: field required; cfg_scale: not a float",
            id="422-two-items",
        ),
        pytest.param(
            422,
            {
                "error": "HTTPException",
                "detail": "Script 'x' not found",
                "body": "",
                "errors": "",
            },
            "Script 'x' not found",
            id="422-a1111-string",
        ),
        pytest.param(
            404,
            {
                "error": "HTTPException",
                "detail": "Sampler not found",
                "body": "",
                "errors": "404: Sampler not found",
            },
            "Sampler not found",
            id="404-forge-shape",
        ),
        pytest.param(404, {"detail": "Not Found"}, API_DISABLED_REASON, id="404-api-disabled"),
        pytest.param(
            401,
            {"error": "HTTPException", "detail": "Not authenticated", "body": "", "errors": ""},
            "Not authenticated",
            id="401-a1111",
        ),
        pytest.param(401, {"detail": "Unauthorized"}, "Unauthorized", id="401-sdnext"),
        pytest.param(
            404,
            {
                "error": "HTTPException",
                "code": 404,
                "detail": "Sampler not found",
                "body": "",
                "errors": "404: Sampler not found",
            },
            "Sampler not found",
            id="404-sdnext-code",
        ),
    ],
)
async def test_rejected_reason(webui, session, status: int, body: Any, reason: str) -> None:
    error = await post_txt2img(webui, session, status=status, body=body)

    assert isinstance(error, BackendRejectedError)
    assert error.status == status
    assert error.reason == reason
    assert reason in str(error)
    assert error.body_excerpt is not None


async def test_rejected_api_disabled_message(webui, session) -> None:
    error = await post_txt2img(webui, session, status=404, body={"detail": "Not Found"})

    assert "--api" in str(error)


async def test_rejected_404_from_proxy(webui, session) -> None:
    error = await post_txt2img(
        webui, session, status=404, text="404 page not found\n", content_type="text/plain"
    )

    assert isinstance(error, BackendRejectedError)
    assert error.reason == "404 page not found"


async def test_server_error_out_of_memory(webui, session) -> None:
    body = {
        "error": "OutOfMemoryError",
        "detail": "",
        "body": "",
        "errors": "CUDA out of memory. Tried to allocate 2.00 GiB",
    }

    error = await post_txt2img(webui, session, status=500, body=body)

    assert isinstance(error, BackendServerError)
    assert error.status == 500
    assert error.error_type == "OutOfMemoryError"
    assert error.reason == "CUDA out of memory. Tried to allocate 2.00 GiB"
    assert error.retryable is False
    assert "OutOfMemoryError" in str(error)


async def test_server_error_a1111_http_exception(webui, session) -> None:
    body = {"error": "HTTPException", "detail": "Invalid encoded image", "body": "", "errors": ""}

    error = await post_txt2img(webui, session, status=500, body=body)

    assert isinstance(error, BackendServerError)
    assert error.reason == "Invalid encoded image"
    assert error.retryable is False


async def test_server_error_proxy_502_html(webui, session) -> None:
    error = await post_txt2img(
        webui, session, status=502, text=PROXY_502_HTML, content_type="text/html"
    )

    assert isinstance(error, BackendServerError)
    assert error.status == 502
    assert error.reason == "502 Bad Gateway"
    assert error.error_type is None
    assert error.retryable is True
    assert error.body_excerpt is not None
    assert error.body_excerpt.startswith("<html> <head><title>502")
    assert "safe to send again" in str(error)


async def test_server_error_503_plain_text(webui, session) -> None:
    error = await post_txt2img(
        webui, session, status=503, text="Service Unavailable", content_type="text/plain"
    )

    assert isinstance(error, BackendServerError)
    assert error.reason == "Service Unavailable"
    assert error.retryable is True


async def test_server_error_504_not_retryable(webui, session) -> None:
    error = await post_txt2img(
        webui,
        session,
        status=504,
        text="<title>504 Gateway Time-out</title>",
        content_type="text/html",
    )

    assert isinstance(error, BackendServerError)
    assert error.reason == "504 Gateway Time-out"
    assert error.retryable is False


async def test_server_error_empty_body(webui, session) -> None:
    error = await post_txt2img(webui, session, status=500, text="", content_type="text/plain")

    assert isinstance(error, BackendServerError)
    assert error.reason == "Internal Server Error"
    assert error.body_excerpt is None
