"""Every formatter whose text a member gets, fed hostile prompts, names and errors: within Discord's limits,
inert markdown, no pings but the requester's, no link previews."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogs import formatting
from engine import GenerationParams
from settings import DEFAULT_SAMPLERS
from tests.hostile.discord_rules import (
    assert_content_valid,
    assert_embed_valid,
    assert_no_link_preview,
    assert_no_mentions,
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
from tests.hostile.texts import FRAGMENTS, any_text

HOSTILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def params_for(prompt: str, negative: str, sampler: str = "Euler a") -> GenerationParams:
    return GenerationParams(
        prompt=prompt,
        negative_prompt=negative,
        width=512,
        height=512,
        steps=20,
        cfg_scale=7.0,
        seed=-1,
        sampler=sampler,
        count=9,
    )


@HOSTILE
@given(prompt=any_text(surrogates=True), error=any_text(surrogates=True))
def test_status_and_outcome_texts_hostile_prompt(prompt: str, error: str) -> None:
    job = make_job(params_for(prompt, ""), error=error)

    for name, text in {**status_texts(job), **outcome_texts(job)}.items():
        assert_content_valid(text, requester_id=REQUESTER_ID, label=name)
        assert_no_link_preview(text.replace(JUMP_URL, ""), name)


@HOSTILE
@given(prompt=any_text(), name=any_text().map(lambda text: text[:32]))
def test_admin_lines_hostile_prompt_and_name(prompt: str, name: str) -> None:
    job = make_job(params_for(prompt, ""), requester_name=name)

    for label, line in admin_lines(job).items():
        assert_content_valid(line, label=label)
        assert_no_link_preview(line, label)


@HOSTILE
# The sampler is one a backend offers, because validation rejects any other name.
@given(prompt=any_text(), negative=any_text(), sampler=st.sampled_from(DEFAULT_SAMPLERS))
def test_result_embed_hostile_prompts(prompt: str, negative: str, sampler: str) -> None:
    params = params_for(prompt, negative, sampler)

    for label, embed in result_embeds(make_job(params), params).items():
        assert_embed_valid(embed, label)


@HOSTILE
@given(text=any_text(surrogates=True), max_chars=st.integers(1, 4096))
def test_quote_prompt_fits_and_is_inert(text: str, max_chars: int) -> None:
    quoted = formatting.quote_prompt(text, max_chars)

    assert len(quoted) <= max_chars
    assert "\n" not in quoted
    assert_no_link_preview(quoted)
    assert_no_mentions(quoted)


def test_quote_prompt_escaped_fragment_fits_field() -> None:
    for fragment in FRAGMENTS:
        text = fragment * (1024 // len(fragment))

        quoted = formatting.quote_prompt(text, 1024)

        assert len(quoted) <= 1024, repr(fragment)


def test_quote_prompt_wraps_links() -> None:
    quoted = formatting.quote_prompt("see https://evil.example/a_b, [free](https://x.example)", 300)

    assert quoted == r"see <https://evil.example/a_b>, \[free](<https://x.example>)"


def test_failed_text_escapes_error() -> None:
    job = make_job(params_for("a fox", ""), error="@everyone **broke** <@&123456789012345678>")

    text = outcome_texts(job)["failed"]

    assert "@\u200beveryone \\*\\*broke\\*\\*" in text
    assert_content_valid(text, requester_id=REQUESTER_ID)
