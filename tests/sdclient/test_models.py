"""Request validation and payloads, and lenient parsing of progress and model lists."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sdclient import GeneratedImage, Progress, SDModel, Txt2ImgRequest, Txt2ImgResult


def test_txt2img_request_payload_defaults() -> None:
    payload = Txt2ImgRequest("a cat").to_payload()

    assert payload == {
        "prompt": "a cat",
        "negative_prompt": "",
        "width": 512,
        "height": 512,
        "steps": 20,
        "cfg_scale": 7.0,
        "seed": -1,
        "sampler_name": "Euler a",
        "batch_size": 1,
        "n_iter": 1,
        "send_images": True,
        "save_images": False,
    }


def test_txt2img_request_checkpoint_override() -> None:
    request = Txt2ImgRequest(
        "a cat",
        override_settings={"CLIP_stop_at_last_layers": 2},
        checkpoint="sd_xl_base_1.0.safetensors [31e35c80fc]",
    )

    payload = request.to_payload()

    assert payload["override_settings"] == {
        "CLIP_stop_at_last_layers": 2,
        "sd_model_checkpoint": "sd_xl_base_1.0.safetensors [31e35c80fc]",
    }
    assert payload["override_settings_restore_afterwards"] is True
    assert request.override_settings == {"CLIP_stop_at_last_layers": 2}


def test_txt2img_request_without_checkpoint_sends_no_override() -> None:
    payload = Txt2ImgRequest("a cat").to_payload()

    assert "override_settings" not in payload
    assert "override_settings_restore_afterwards" not in payload


@pytest.mark.parametrize("checkpoint", ["", "  "])
def test_txt2img_request_rejects_blank_checkpoint(checkpoint: str) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        Txt2ImgRequest("a cat", checkpoint=checkpoint)


def test_txt2img_request_image_count() -> None:
    assert Txt2ImgRequest("a cat", batch_size=3, n_iter=2).image_count == 6


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("width", 500, "width 500 is invalid"),
        ("height", 0, "height 0 is invalid"),
        ("steps", 0, "steps 0 is invalid"),
        ("batch_size", 0, "batch_size 0 is invalid"),
        ("n_iter", -1, "n_iter -1 is invalid"),
    ],
)
def test_txt2img_request_invalid(field: str, value: int, message: str) -> None:
    fields: dict[str, Any] = {field: value}

    with pytest.raises(ValueError, match=message):
        Txt2ImgRequest("a cat", **fields)


def test_txt2img_result_seeds_skip_unknown() -> None:
    def image(seed: int | None) -> GeneratedImage:
        return GeneratedImage(data=b"", format="png", width=8, height=8, seed=seed)

    result = Txt2ImgResult(
        images=[image(3), image(None), image(5)], info={}, parameters={}, elapsed_s=1.0
    )

    assert result.seeds == [3, 5]


def test_progress_from_json_missing_fields() -> None:
    progress = Progress.from_json({"progress": 0.5, "state": None, "textinfo": 7})

    assert progress.progress == 0.5
    assert progress.job == ""
    assert progress.job_count == 0
    assert progress.job_timestamp == "0"
    assert progress.idle is True
    assert progress.textinfo is None


def test_progress_from_json_preview_data_url() -> None:
    encoded = base64.b64encode(b"preview").decode()

    progress = Progress.from_json({"current_image": f"data:image/png;base64,{encoded}"})

    assert progress.current_image == b"preview"


def test_progress_from_json_broken_preview() -> None:
    assert Progress.from_json({"current_image": "***"}).current_image is None


def test_progress_idle_needs_empty_job() -> None:
    state = {"job": "scripts_txt2img", "job_count": 0, "job_timestamp": "20250102030405"}

    assert Progress.from_json({"state": state}).idle is False


@pytest.mark.parametrize(
    ("title", "hash", "name"),
    [
        ("sd_xl_base_1.0.safetensors [31e35c80fc]", "31e35c80fc", "sd_xl_base_1.0.safetensors"),
        ("sd_xl_base_1.0.safetensors", None, "sd_xl_base_1.0.safetensors"),
        ("SDXL/juggernaut.safetensors [0123abcd]", None, "SDXL/juggernaut.safetensors"),
    ],
)
def test_sd_model_name_drops_hash(title: str, hash: str | None, name: str) -> None:
    model = SDModel(title=title, model_name="ignored", filename=None, hash=hash)

    assert model.name == name


def test_sd_model_from_json_without_title() -> None:
    model = SDModel.from_json({"model_name": "sdxl", "filename": "", "hash": None})

    assert model == SDModel(title="sdxl", model_name="sdxl", filename=None, hash=None)
