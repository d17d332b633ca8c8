"""The page as headless Chromium renders it against a live queue.

gpu-a runs one job and hangs on it, gpu-b is down, and the store contains jobs in every state.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from tests.dashboard.conftest import LiveQueue
from tests.dashboard.scenario import OOM_ERROR, SCRIPT_PROMPT, TIMEOUT_ERROR, TOKEN

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
]
CHROMIUM_TIMEOUT_S = 90.0
SCREENSHOT_SIZE = (1280, 1600)
ESCAPED_PROMPT = "&lt;script&gt;alert('pwned')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Return Debian's chromium, installing it with apt-get when the tests run as root.

    The test setup installs it, as the README's test command is all CI runs. Elsewhere the
    browser tests are skipped with the command to install it, except in CI, where they fail.
    """
    path = shutil.which("chromium")
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        for command in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "chromium"],
        ):
            subprocess.run(command, check=False, capture_output=True, timeout=900)
        path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI and apt-get could not install it.")
        pytest.skip("chromium is not installed (apt-get install chromium).")
    return path


async def run_chromium(chromium: str, profile: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CHROMIUM_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout.decode()


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)


class DomReader(HTMLParser):
    """Collect the body rows of every table by id, texts by element id, and SVG bars."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[Row]] = {}
        self.texts: dict[str, str] = {}
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self._open_ids: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        if tag == "table":
            self._table = values.get("id", "")
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table is not None:
            self.tables[self._table].append(Row(values))
        elif tag == "td" and self._in_body and self._table is not None:
            self._cell = []
        if "id" in values:
            self._open_ids.append((tag, values["id"]))
            self.texts[values["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].cells.append("".join(self._cell))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _, element_id in self._open_ids:
            self.texts[element_id] += data

    def rows(self, table: str) -> list[Row]:
        return self.tables[table]


def read_dom(html: str) -> DomReader:
    reader = DomReader()
    reader.feed(html)
    reader.close()
    return reader


async def test_browser_page_shows_queue(chromium: str, live: LiveQueue, tmp_path: Path) -> None:
    # One Chromium run feeds every check, because each run costs about a second of CPU.
    url = f"{live.dashboard.url}/?token={TOKEN}"
    html = await run_chromium(chromium, tmp_path / "profile", "--dump-dom", url)
    page = read_dom(html)
    store = live.service.store
    [running] = await store.running()
    positions = await store.positions()
    tags = [tag for tag, _ in page.tags]

    assert page.texts["status"].startswith("Updated ")
    assert page.texts["status"].endswith("fifo queue")

    [row] = page.rows("running")
    assert row.attrs["data-job-id"] == str(running.id)
    assert row.cells[:4] == [str(running.id), "henry", "a lighthouse at dusk", "gpu-a"]
    assert page.texts["running-count"] == "(1)"

    waiting = page.rows("waiting")
    assert [int(row.attrs["data-job-id"]) for row in waiting] == list(positions)
    assert [row.cells[0] for row in waiting] == ["1", "2", "3"]
    assert [row.cells[1] for row in waiting] == [str(ahead) for ahead in positions.values()]
    assert page.texts["waiting-count"] == "(3)"

    # Chromium serialises the prompt escaped because it is text. The only script element is the
    # page's own, and the prompt's <b> never became an element.
    assert [row.cells[4] for row in waiting][1] == SCRIPT_PROMPT
    assert ESCAPED_PROMPT in html
    assert tags.count("script") == 1
    assert "b" not in tags

    reasons = [row.cells[-1] for row in page.rows("failures")]
    assert reasons == [TIMEOUT_ERROR, OOM_ERROR, OOM_ERROR]

    successes = page.rows("successes")
    assert len(successes) == 4
    assert successes[0].attrs["data-job-id"] == str(live.scenario.succeeded[2].id)
    assert successes[0].cells[-2:] == ["45 s", "1 min 30 s"]

    backends = {row.attrs["data-backend"]: row for row in page.rows("backends")}
    assert backends["gpu-a"].attrs["data-state"] == "up"
    assert backends["gpu-a"].cells[2] == "Up"
    assert backends["gpu-b"].attrs["data-state"] == "down"
    assert backends["gpu-b"].cells[2] == "Down"

    bars = [attrs for tag, attrs in page.tags if tag == "rect" and "bar" in attrs["class"]]
    assert len(bars) == 120
    # Six jobs finished in five distinct minutes, none of which has both outcomes.
    assert sum(float(attrs["height"]) > 0 for attrs in bars) == 5
    [svg] = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert svg["aria-label"] == "6 jobs finished in the last hour"
    assert tags.count("circle") == 5


async def test_browser_screenshot_not_blank(chromium: str, live: LiveQueue, tmp_path: Path) -> None:
    shot = tmp_path / "dashboard.png"
    url = f"{live.dashboard.url}/?token={TOKEN}"
    width, height = SCREENSHOT_SIZE

    await run_chromium(
        chromium,
        tmp_path / "profile",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--screenshot={shot}",
        url,
    )

    assert shot.exists()
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    assert rgb.size == SCREENSHOT_SIZE
    colors = rgb.getcolors(maxcolors=1 << 16)
    assert colors is None or len(colors) > 20
    # The header's dark background shows that the inline stylesheet passed the CSP.
    header_pixel = rgb.getpixel((5, 5))
    assert isinstance(header_pixel, tuple)
    assert sum(header_pixel) < 150
