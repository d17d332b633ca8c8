"""The dashboard page: static/index.html with its stylesheet and script inlined.

Every route requires the token, and a browser does not send the page's query string with the
requests for a stylesheet or a script, so the page carries both inline. The Content Security
Policy allows exactly those two inline blocks, by hash, and no other script or style.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from importlib import resources

STYLESHEET_TAG = '<link rel="stylesheet" href="dashboard.css">'
SCRIPT_TAG = '<script src="dashboard.js"></script>'


@dataclass(frozen=True, slots=True)
class Page:
    """The page's HTML and the headers it is served with."""

    html: str
    headers: dict[str, str]


def load_page() -> Page:
    """Read the page from the package's static folder and inline its stylesheet and script."""
    static = resources.files(__package__).joinpath("static")
    html = static.joinpath("index.html").read_text(encoding="utf-8")
    css = static.joinpath("dashboard.css").read_text(encoding="utf-8")
    script = static.joinpath("dashboard.js").read_text(encoding="utf-8")
    return build_page(html, css, script)


def build_page(html: str, css: str, script: str) -> Page:
    """Replace the stylesheet link and script tag of ``html`` with inline blocks.

    Raises:
        ValueError: ``html`` lacks STYLESHEET_TAG or SCRIPT_TAG, or a block would end early.
    """
    for tag in (STYLESHEET_TAG, SCRIPT_TAG):
        if html.count(tag) != 1:
            raise ValueError(f"The dashboard page must contain {tag} exactly once.")
    if "</style" in css.lower() or "</script" in script.lower():
        raise ValueError("The dashboard stylesheet or script contains its own closing tag.")
    inlined = html.replace(STYLESHEET_TAG, f"<style>{css}</style>")
    inlined = inlined.replace(SCRIPT_TAG, f"<script>{script}</script>")
    return Page(html=inlined, headers=security_headers(css, script))


def security_headers(css: str, script: str) -> dict[str, str]:
    """Return the headers that lock the page to its own inline style, script and API."""
    policy = "; ".join(
        [
            "default-src 'none'",
            f"style-src '{_sha256(css)}'",
            f"script-src '{_sha256(script)}'",
            "connect-src 'self'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()
