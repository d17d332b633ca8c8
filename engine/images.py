"""Storage of finished images on disk, before and after they are posted."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from sdclient import GeneratedImage


class ImageStore:
    """Writes each job's images under ``root/<job id>/`` and reads them back."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def save(self, job_id: int, images: list[GeneratedImage]) -> list[dict[str, Any]]:
        """Write the images durably and return their records for the job's result."""
        return await asyncio.to_thread(self._save_sync, job_id, images)

    def path(self, record: dict[str, Any]) -> Path:
        return self.root / str(record["path"])

    async def read(self, relative_path: str) -> bytes:
        """Read an image stored earlier, by the path its record gives."""
        return await asyncio.to_thread((self.root / relative_path).read_bytes)

    def _save_sync(self, job_id: int, images: list[GeneratedImage]) -> list[dict[str, Any]]:
        folder = self.root / str(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        records = []
        for index, image in enumerate(images):
            name = f"{index}.{image.format}"
            _write_durably(folder / name, image.data)
            records.append(
                {
                    "path": f"{job_id}/{name}",
                    "seed": image.seed,
                    "width": image.width,
                    "height": image.height,
                    "format": image.format,
                }
            )
        return records


def _write_durably(path: Path, data: bytes) -> None:
    # Written to a temporary name, synced, then renamed, so a crash never leaves a half file
    # under the final name.
    temporary = path.with_suffix(path.suffix + ".part")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
