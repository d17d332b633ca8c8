"""The package's public names."""

from __future__ import annotations

import fakewebui


def test_all_pinned() -> None:
    assert fakewebui.__all__ == [
        "FAULT_KINDS",
        "FakeWebUI",
        "InvalidModelListError",
        "create_app",
        "serve",
    ]


def test_fault_kinds() -> None:
    assert fakewebui.FAULT_KINDS == (
        "error_500",
        "oom",
        "hang",
        "broken_image",
        "wrong_size",
        "empty_images",
        "disconnect",
    )
