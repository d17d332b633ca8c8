"""All 12,000 prompts of a real 2022 Discord channel through validation and every formatter."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from cogs.validation import ImagineOptions, InvalidOptionError, validate
from engine import GenerationParams
from engine.trace import TraceRequest, read_trace
from settings import DEFAULT_SAMPLERS
from tests.hostile.discord_rules import (
    assert_content_valid,
    assert_embed_valid,
    assert_no_link_preview,
)
from tests.hostile.messages import (
    JUMP_URL,
    REQUESTER_ID,
    admin_lines,
    make_job,
    outcome_texts,
    result_embeds,
    status_texts,
)
from tests.hostile.option_checks import (
    DEFAULT_LIMITS,
    WIDEST_LIMITS,
    check_accepted,
    check_rejection,
)

TRACE = Path(__file__).parents[1] / "data" / "dreambot-trace.jsonl.gz"


@pytest.fixture(scope="module")
def requests(tmp_path_factory: pytest.TempPathFactory) -> list[TraceRequest]:
    path = tmp_path_factory.mktemp("trace") / "dreambot-trace.jsonl"
    path.write_bytes(gzip.decompress(TRACE.read_bytes()))
    return list(read_trace(path))


def options_of(request: TraceRequest) -> ImagineOptions:
    """Map a recorded request to /imagine options as the trace reader names them."""
    return ImagineOptions(prompt=request.prompt, **request.options)


def params_to_show(request: TraceRequest) -> GenerationParams:
    """Return what the bot would queue with the widest limits, or the raw prompt if rejected."""
    try:
        return validate(options_of(request), WIDEST_LIMITS, DEFAULT_SAMPLERS)
    except InvalidOptionError:
        return GenerationParams(
            prompt=request.prompt,
            negative_prompt="",
            width=512,
            height=512,
            steps=20,
            cfg_scale=7.0,
            seed=-1,
            sampler="Euler a",
            count=1,
        )


def test_trace_holds_12000_requests(requests: list[TraceRequest]) -> None:
    assert len(requests) == 12_000
    assert sum(1 for request in requests if not request.prompt.isascii()) > 100


def test_trace_prompts_validate_or_explain(requests: list[TraceRequest]) -> None:
    outcomes: Counter[str] = Counter()
    for request in requests:
        try:
            params = validate(options_of(request), DEFAULT_LIMITS, DEFAULT_SAMPLERS)
        except InvalidOptionError as error:
            check_rejection(error, DEFAULT_LIMITS)
            outcomes[error.option] += 1
            continue
        check_accepted(params, DEFAULT_LIMITS)
        outcomes["accepted"] += 1

    # Sizes over 1,024 pixels and a cfg_scale over 30 were common then, and a few prompts are
    # blank once invisible characters are removed.
    assert outcomes["accepted"] > 11_000, outcomes
    assert set(outcomes) <= {"accepted", "prompt", "width", "height", "steps", "cfg_scale"}


def test_trace_prompts_every_formatter_fits(requests: list[TraceRequest]) -> None:
    for number, request in enumerate(requests, start=1):
        params = params_to_show(request)
        job = make_job(params, requester_name=request.user)
        label = f"request {number}"
        for name, text in {**status_texts(job), **outcome_texts(job)}.items():
            assert_content_valid(text, requester_id=REQUESTER_ID, label=f"{label}, {name}")
            assert_no_link_preview(text.replace(JUMP_URL, ""), f"{label}, {name}")
        for name, line in admin_lines(job).items():
            assert_content_valid(line, label=f"{label}, {name}")
        for name, embed in result_embeds(job, params).items():
            assert_embed_valid(embed, f"{label}, {name}")
