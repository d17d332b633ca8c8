"""storage/ and sdclient/ stay free of Discord, of the settings, and of each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "storage": ("discord", "settings", "sdclient", "cogs", "engine"),
    "sdclient": ("discord", "settings", "storage", "cogs", "engine"),
    "fakewebui": ("discord", "settings", "storage", "sdclient", "cogs", "engine"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_forbidden(package: str) -> None:
    modules = sorted(path.stem for path in (ROOT / package).glob("*.py") if path.stem != "__init__")
    imports = "; ".join(f"import {package}.{module}" for module in modules)
    probe = (
        f"import sys; import {package}; {imports}; "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN[package]!r})))"
    )

    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == ""
