"""The public names of sdclient and what importing it pulls in."""

from __future__ import annotations

import subprocess
import sys

import sdclient

PUBLIC_NAMES = {
    "BackendDisconnectedError",
    "BackendRejectedError",
    "BackendServerError",
    "BackendTimeoutError",
    "BackendUnreachableError",
    "EmptyResultError",
    "GeneratedImage",
    "InvalidResultError",
    "ModelList",
    "Progress",
    "SDClient",
    "SDError",
    "SDModel",
    "Txt2ImgRequest",
    "Txt2ImgResult",
    "checkpoint_name",
    "checkpoint_stem",
    "generated_with",
    "generation_budget_s",
}


def test_package_exports_sorted() -> None:
    assert sdclient.__all__ == sorted(sdclient.__all__)
    assert set(sdclient.__all__) == PUBLIC_NAMES
    assert all(hasattr(sdclient, name) for name in PUBLIC_NAMES)


def test_package_import_stays_independent() -> None:
    script = (
        "import sys, sdclient\n"
        "print(sorted(m for m in ('discord', 'settings', 'storage') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == "[]"
