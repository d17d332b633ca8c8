"""The page: one HTML document with its stylesheet and script inline, locked down by CSP."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from dashboard.page import SCRIPT_TAG, STYLESHEET_TAG, build_page, load_page
from tests.dashboard.scenario import TOKEN

HTML = f"<html><head>{STYLESHEET_TAG}</head><body>{SCRIPT_TAG}</body></html>"


def sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


async def test_page_served_inline(session, dashboard) -> None:
    async with session.get(f"{dashboard.url}/", params={"token": TOKEN}) as response:
        html = await response.text()
        headers = response.headers

    assert response.content_type == "text/html"
    assert "<script src=" not in html
    assert 'rel="stylesheet"' not in html
    [script] = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    [style] = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    policy = headers["Content-Security-Policy"]
    assert f"script-src '{sha256(script)}'" in policy
    assert f"style-src '{sha256(style)}'" in policy
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


async def test_page_has_no_token(session, dashboard) -> None:
    async with session.get(f"{dashboard.url}/", params={"token": TOKEN}) as response:
        html = await response.text()

    assert TOKEN not in html


def test_page_loads_from_package() -> None:
    page = load_page()

    assert page.html.count("<script>") == 1
    assert page.html.count("<style>") == 1
    assert 'id="waiting"' in page.html


def test_build_page_inlines_blocks() -> None:
    page = build_page(HTML, "body{color:red}", "let x = 1;")

    assert page.html == (
        "<html><head><style>body{color:red}</style></head>"
        "<body><script>let x = 1;</script></body></html>"
    )


@pytest.mark.parametrize(
    "html",
    [
        "<html></html>",
        f"<html>{STYLESHEET_TAG}</html>",
        f"<html>{SCRIPT_TAG}</html>",
        f"<html>{STYLESHEET_TAG}{SCRIPT_TAG}{SCRIPT_TAG}</html>",
    ],
)
def test_build_page_missing_tag(html: str) -> None:
    with pytest.raises(ValueError, match="exactly once"):
        build_page(html, "", "")


@pytest.mark.parametrize(("css", "script"), [("", "x = '</script>';"), ("a{} </STYLE> b{}", "")])
def test_build_page_closing_tag_inside(css: str, script: str) -> None:
    with pytest.raises(ValueError, match="closing tag"):
        build_page(HTML, css, script)
