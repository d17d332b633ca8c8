"""Checkpoint names across A1111, Forge and SD.Next, and checking which model made a result."""

from __future__ import annotations

from typing import Any

import pytest

from sdclient import ModelList, SDModel, checkpoint_name, checkpoint_stem, generated_with

# How A1111 1.10 lists a hashed checkpoint in a subfolder.
JUGGERNAUT = SDModel(
    title="SDXL/juggernaut.v9.safetensors [0a1b2c3d4e]",
    model_name="SDXL_juggernaut.v9",
    filename="/webui/models/Stable-diffusion/SDXL/juggernaut.v9.safetensors",
    hash="0a1b2c3d4e",
)
BASE = SDModel(
    title="sd_xl_base_1.0.safetensors",
    model_name="sd_xl_base_1.0",
    filename=None,
    hash=None,
)


@pytest.mark.parametrize(
    ("title", "hash", "expected"),
    [
        ("v1-5.safetensors [6ce0161689]", None, "v1-5.safetensors"),
        ("v1-5.safetensors [6ce0161689]", "6ce0161689", "v1-5.safetensors"),
        ("v1-5.ckpt [81761151]", None, "v1-5.ckpt"),
        ("v1-5.safetensors", None, "v1-5.safetensors"),
        ("anime [v2].safetensors", None, "anime [v2].safetensors"),
        ("anime [v2]", None, "anime [v2]"),
        ("Diffusers/org/model [0123456789abcdef]", None, "Diffusers/org/model"),
    ],
)
def test_checkpoint_name_drops_hash_suffix(title: str, hash: str | None, expected: str) -> None:
    assert checkpoint_name(title, hash) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("SDXL/juggernaut.safetensors", "juggernaut"),
        ("SDXL\\juggernaut.safetensors", "juggernaut"),
        ("C:\\models\\Stable-diffusion\\v1-5.ckpt", "v1-5"),
        ("plain", "plain"),
    ],
)
def test_checkpoint_stem_either_separator(path: str, expected: str) -> None:
    assert checkpoint_stem(path) == expected


@pytest.mark.parametrize(
    "info",
    [
        pytest.param({"sd_model_name": "juggernaut.v9", "sd_model_hash": "0a1b2c3d4e"}, id="a1111"),
        pytest.param({"sd_model_name": "renamed", "sd_model_hash": "0a1b2c3d4e"}, id="same-hash"),
        pytest.param({"sd_model_name": "SDXL/juggernaut.v9.safetensors"}, id="name-with-path"),
        pytest.param({"sd_model_name": "JUGGERNAUT.V9"}, id="case"),
        pytest.param({"sd_model_name": "juggernaut.v9", "sd_model_hash": "ffff"}, id="old-hash"),
        pytest.param({}, id="empty-info"),
        pytest.param({"sd_model_name": None, "sd_model_hash": None}, id="nulls"),
    ],
)
def test_generated_with_requested_model(info: dict[str, Any]) -> None:
    assert generated_with(info, JUGGERNAUT) is True


@pytest.mark.parametrize(
    "info",
    [
        pytest.param(
            {"sd_model_name": "sd_xl_base_1.0", "sd_model_hash": "31e35c80fc"}, id="a1111"
        ),
        pytest.param({"sd_model_name": "juggernaut.v8"}, id="other-version"),
        pytest.param({"sd_model_name": "sd_xl_base_1.0.safetensors [31e35c80fc]"}, id="title"),
    ],
)
def test_generated_with_other_model(info: dict[str, Any]) -> None:
    assert generated_with(info, JUGGERNAUT) is False


def test_generated_with_unhashed_model() -> None:
    info = {"sd_model_name": "sd_xl_base_1.0", "sd_model_hash": "31e35c80fc"}

    assert generated_with(info, BASE) is True
    assert generated_with({"sd_model_name": "juggernaut.v9"}, BASE) is False


def test_model_list_names_and_checkpoints() -> None:
    models = ModelList.from_models([BASE, JUGGERNAUT])

    assert models.names == {"sd_xl_base_1.0.safetensors", "SDXL/juggernaut.v9.safetensors"}
    assert models.checkpoint_for("SDXL/juggernaut.v9.safetensors") == JUGGERNAUT.title
    assert models.checkpoint_for("sd_xl_base_1.0.safetensors") == "sd_xl_base_1.0.safetensors"
    assert models.checkpoint_for("gone.safetensors") == "gone.safetensors"


def test_model_list_matches_listed_and_unlisted() -> None:
    models = ModelList.from_models([JUGGERNAUT])
    info = {"sd_model_name": "juggernaut.v9", "sd_model_hash": "0a1b2c3d4e"}

    assert models.matches_result("SDXL/juggernaut.v9.safetensors", info) is True
    assert models.matches_result("sd_xl_base_1.0.safetensors", info) is False
    assert (
        models.matches_result("SDXL/juggernaut.v9.safetensors", {"sd_model_name": "other"}) is False
    )
    assert models.matches_result("juggernaut.v9.safetensors", info) is True
