"""A1111 infotext: the parameter summary stored in each PNG and returned in ``info``.

Layout: the prompt, then ``Negative prompt: ...`` when there is one, then one line of
``Key: value`` pairs separated by ", ". A value containing a comma, colon or newline is written
as a JSON string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NEGATIVE_PREFIX = "Negative prompt:"


def format_value(value: Any) -> str:
    """Format one parameter value: whole floats lose their ``.0``, risky text is quoted."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if any(char in text for char in ',:\n"'):
        return json.dumps(text, ensure_ascii=False)
    return text


def build_infotext(prompt: str, negative_prompt: str, parameters: Mapping[str, Any]) -> str:
    """Join the prompt, negative prompt and the non-None parameters into an infotext."""
    pairs = ", ".join(
        f"{key}: {format_value(value)}" for key, value in parameters.items() if value is not None
    )
    lines = [prompt]
    if negative_prompt:
        lines.append(f"{NEGATIVE_PREFIX} {negative_prompt}")
    lines.append(pairs)
    return "\n".join(lines)


def parse_infotext(text: str) -> dict[str, Any]:
    """Split an infotext into ``Prompt``, ``Negative prompt`` and its parameters.

    Values stay strings. ``Size: 512x768`` also yields ``Size-1`` and ``Size-2``, as A1111's
    PNG-info route reports them.
    """
    lines = text.strip().split("\n")
    parameters = _parse_pairs(lines[-1])
    # A prompt line may contain one "key: value" by chance, but a parameter line has several.
    if len(parameters) >= 3:
        lines = lines[:-1]
    else:
        parameters = {}
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    for line in lines:
        if line.startswith(NEGATIVE_PREFIX) or negative_lines:
            negative_lines.append(line.removeprefix(NEGATIVE_PREFIX).strip())
        else:
            prompt_lines.append(line)
    result: dict[str, Any] = {
        "Prompt": "\n".join(prompt_lines),
        "Negative prompt": "\n".join(negative_lines),
    }
    for key, value in parameters.items():
        result[key] = value
        width, separator, height = value.partition("x")
        if separator and width.isdigit() and height.isdigit():
            result[f"{key}-1"] = width
            result[f"{key}-2"] = height
    return result


def _parse_pairs(line: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in _split_outside_quotes(line):
        key, separator, value = item.partition(":")
        if not separator or not key.strip():
            continue
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        pairs[key.strip()] = value
    return pairs


def _split_outside_quotes(line: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\" and in_quotes:
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
        elif char == "," and not in_quotes:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items
