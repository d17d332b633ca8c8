"""The A1111 progress formula and idle semantics of ProgressState."""

from __future__ import annotations

import pytest

from fakewebui.progress import PreviewSource, ProgressState, progress_response

OPTIONS = {"live_previews_enable": True, "show_progress_every_n_steps": 10}


def test_progress_fraction_formula() -> None:
    state = ProgressState()
    state.begin("scripts_txt2img", 4)
    state.start_pass(1, 20, PreviewSource("p", 1, 64, 64))
    state.sampling_step = 5

    assert state.fraction() == pytest.approx(0.01 + 1 / 4 + (5 / 20) / 4)


def test_progress_fraction_capped_at_one() -> None:
    state = ProgressState()
    state.begin("scripts_txt2img", 1)
    state.start_pass(0, 10, PreviewSource("p", 1, 64, 64))
    state.sampling_step = 10

    assert state.fraction() == 1.0


def test_progress_end_keeps_counters() -> None:
    state = ProgressState()
    state.begin("scripts_txt2img", 2)
    state.start_pass(1, 8, PreviewSource("p", 1, 64, 64))
    state.sampling_step = 8
    state.interrupted = True
    state.end()

    body = progress_response(state, OPTIONS, skip_current_image=False)

    assert body["progress"] == 0
    assert body["state"]["job"] == ""
    assert body["state"]["job_no"] == 1
    assert body["state"]["sampling_step"] == 8
    assert body["state"]["interrupted"] is True


def test_progress_preview_every_n_steps() -> None:
    state = ProgressState()
    state.begin("scripts_txt2img", 1)
    state.start_pass(0, 30, PreviewSource("p", 1, 64, 64))

    state.sampling_step = 9
    early = progress_response(state, OPTIONS, skip_current_image=False)
    state.sampling_step = 10
    first = progress_response(state, OPTIONS, skip_current_image=False)
    state.sampling_step = 15
    repeated = progress_response(state, OPTIONS, skip_current_image=False)
    disabled = progress_response(
        state, {**OPTIONS, "live_previews_enable": False}, skip_current_image=False
    )

    assert early["current_image"] is None
    assert first["current_image"] is not None
    assert repeated["current_image"] == first["current_image"]
    assert disabled["current_image"] == first["current_image"]
