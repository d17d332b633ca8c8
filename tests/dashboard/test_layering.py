"""dashboard/ stays free of Discord, of the settings and of the cogs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("discord", "settings", "cogs")


def test_dashboard_imports_nothing_forbidden() -> None:
    modules = sorted(p.stem for p in (ROOT / "dashboard").glob("*.py") if p.stem != "__init__")
    imports = "; ".join(f"import dashboard.{module}" for module in modules)
    probe = (
        f"import sys; import dashboard; {imports}; "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))"
    )

    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == ""
