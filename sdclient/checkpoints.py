"""Checkpoint names as A1111, Forge and SD.Next report them, and matching them across backends.

GET /sdapi/v1/sd-models titles a checkpoint "<name> [<short hash>]" once the backend has hashed
the file and plain "<name>" before, where name is the file's path under the models folder with
its extension, such as "SDXL/juggernaut.safetensors". model_name differs between backends: A1111
1.10 and Forge report the path without extension and with "/" replaced by "_", SD.Next the name
itself. The name is therefore the one key that every backend reports the same way.

A txt2img result's info reports the checkpoint that ran as sd_model_name, which A1111 1.10 and
Forge set to the file's base name without extension, and sd_model_hash, the short hash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PureWindowsPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdclient.models import SDModel

# A1111 appends the first 10 hex digits of the SHA-256, and releases before 1.0 appended an
# 8-digit hash of part of the file.
_HASH_SUFFIX = re.compile(r" \[[0-9a-fA-F]{8,64}\]$")
_MIN_HASH_DIGITS = 8


def checkpoint_name(title: str, hash: str | None = None) -> str:
    """Return a title without the " [hash]" suffix that backends add once the file is hashed."""
    if hash and title.endswith(f" [{hash}]"):
        return title[: -len(hash) - 3]
    return _HASH_SUFFIX.sub("", title)


def checkpoint_stem(path: str) -> str:
    """Return the base name of a checkpoint path without its extension, for either separator."""
    # PureWindowsPath splits on both "/" and "\", and backends on Windows report "\".
    return PureWindowsPath(path).stem


def generated_with(info: Mapping[str, Any], model: SDModel) -> bool:
    """Tell whether a txt2img info may come from model: False only if it names another model.

    A1111, Forge and SD.Next ignore an unknown sd_model_checkpoint override without an error
    and generate with the loaded model, so comparing the info is how a client notices it.
    A matching hash settles it. Otherwise the reported name is compared by its base name, with
    and without extension, because the backends report it in different forms. An info without
    a name, such as SD.Next's empty one, counts as a match.
    NOTE: SD.Next's form of sd_model_name was not checked against its source.
    """
    reported_hash = info.get("sd_model_hash")
    if isinstance(reported_hash, str) and model.hash and _same_hash(reported_hash, model.hash):
        return True
    reported_name = info.get("sd_model_name")
    if not isinstance(reported_name, str) or not reported_name.strip():
        return True
    paths = [model.name, model.model_name, model.filename or ""]
    known = {form for path in paths if path for form in _base_names(path)}
    return not known.isdisjoint(_base_names(checkpoint_name(reported_name.strip())))


def _base_names(path: str) -> set[str]:
    # A1111 reports "juggernaut.v9" for "juggernaut.v9.safetensors", so a name may or may not
    # still carry its extension, and both forms are compared.
    base = PureWindowsPath(path).name
    return {base.casefold(), checkpoint_stem(base).casefold()}


def _same_hash(first: str, second: str) -> bool:
    # One backend may report 10 digits where another reports the full SHA-256.
    digits = min(len(first), len(second))
    if digits < _MIN_HASH_DIGITS:
        return False
    return first[:digits].casefold() == second[:digits].casefold()
