"""Base64 decoding, format sniffing and full decoding of returned images."""

from __future__ import annotations

import base64

import pytest

from sdclient.images import ImageDecodeError, decode_base64, measure_image, sniff_format


@pytest.mark.parametrize(
    ("pillow_format", "expected"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")]
)
def test_measure_image_formats(encode_image, pillow_format: str, expected: str) -> None:
    data = base64.b64decode(encode_image(24, 16, pillow_format))

    assert sniff_format(data) == expected
    assert measure_image(data) == (expected, 24, 16)


def test_sniff_format_unknown() -> None:
    assert sniff_format(b"GIF89a\x01\x00") is None
    assert sniff_format(b"") is None
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVE") is None


def test_decode_base64_data_url() -> None:
    assert decode_base64("data:image/png;base64,aGk=") == b"hi"


def test_decode_base64_data_url_not_base64() -> None:
    with pytest.raises(ImageDecodeError, match="not base64"):
        decode_base64("data:image/svg+xml,<svg/>")


def test_decode_base64_invalid() -> None:
    with pytest.raises(ImageDecodeError, match="not valid base64"):
        decode_base64("abc$")


def test_measure_image_png_magic_garbage() -> None:
    with pytest.raises(ImageDecodeError, match="png image does not decode"):
        measure_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
