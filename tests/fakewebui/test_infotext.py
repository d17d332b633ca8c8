"""Infotext formatting and parsing."""

from __future__ import annotations

from fakewebui.infotext import build_infotext, format_value, parse_infotext


def test_format_value_rules() -> None:
    assert format_value(7.0) == "7"
    assert format_value(7.5) == "7.5"
    assert format_value("Euler a") == "Euler a"
    assert format_value("a, b") == '"a, b"'


def test_build_infotext_layout() -> None:
    text = build_infotext("a cat", "dog", {"Steps": 3, "Seed": 1, "Tiling": None})

    assert text == "a cat\nNegative prompt: dog\nSteps: 3, Seed: 1"


def test_build_infotext_no_negative_line() -> None:
    text = build_infotext("a cat", "", {"Steps": 3})

    assert text == "a cat\nSteps: 3"


def test_parse_infotext_round_trip() -> None:
    text = build_infotext(
        "line one\nline two",
        "blurry",
        {"Steps": 20, "Sampler": "DPM++ 2M", "Size": "512x768", "Note": "a, b: c"},
    )

    parsed = parse_infotext(text)

    assert parsed["Prompt"] == "line one\nline two"
    assert parsed["Negative prompt"] == "blurry"
    assert parsed["Steps"] == "20"
    assert parsed["Sampler"] == "DPM++ 2M"
    assert parsed["Size-1"] == "512"
    assert parsed["Size-2"] == "768"
    assert parsed["Note"] == "a, b: c"


def test_parse_infotext_prompt_only() -> None:
    parsed = parse_infotext("portrait, style: oil")

    assert parsed == {"Prompt": "portrait, style: oil", "Negative prompt": ""}
