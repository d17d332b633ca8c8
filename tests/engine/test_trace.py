"""Reading JSON-lines request traces, and the messages for files that are not traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.trace import TraceError, default_trace_path, read_trace


def write_lines(path: Path, *records: object) -> Path:
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n", encoding="utf-8")
    return path


def read_error(path: Path) -> str:
    with pytest.raises(TraceError) as caught:
        list(read_trace(path))
    return str(caught.value)


def test_read_trace_maps_options(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl",
        {
            "user": "u1",
            "prompt": "a red fox",
            "width": 640,
            "cfg_scale": 7,
            "n_images": 4,
            "sampler": "k_euler_ancestral",
            "seconds": 3.5,
        },
    )

    [request] = read_trace(path)

    assert request.user == "u1"
    assert request.prompt == "a red fox"
    assert request.seconds == 3.5
    assert request.options == {"width": 640, "cfg_scale": 7.0, "count": 4, "sampler": "Euler a"}


def test_read_trace_bundled_sample_reads() -> None:
    requests = list(read_trace(default_trace_path()))

    assert len(requests) == 500


def test_read_trace_leaves_out_valueless_options(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl", {"user": "u1", "prompt": "x", "cfg_scale": True, "sampler": True}
    )

    [request] = read_trace(path)

    assert request.options == {}


def test_read_trace_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"user": "u1", "prompt": "x"}\n')

    [request] = read_trace(path)

    assert request.user == "u1"


def test_read_trace_keeps_line_separator_in_prompt(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"user": "u1", "prompt": "a\u2028b"}\r\n', encoding="utf-8")

    [request] = read_trace(path)

    assert request.prompt == "a\u2028b"


def test_read_trace_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"user": "u1", "prompt": "x"}\n\x89PNG\r\n\x1a\n\x00\x00\xff\xfe')

    message = read_error(path)

    assert message.startswith(f"{path}:2: not UTF-8 text")


def test_read_trace_latin1_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        '{"user": "u1", "prompt": "x"}\n\n{"user": "u2", "prompt": "café"}\n'.encode("latin-1")
    )

    message = read_error(path)

    assert message.startswith(f"{path}:3: not UTF-8 text (byte 0xe9)")


def test_read_trace_json_array_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "t.jsonl", {"user": "u1", "prompt": "x"}, ["u2", "y"])

    message = read_error(path)

    assert message.startswith(f"{path}:2: a JSON list, not an object")


def test_read_trace_not_json(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("not json\n", encoding="utf-8")

    message = read_error(path)

    assert message.startswith(f"{path}:1: not valid JSON")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param({"user": "u1"}, "missing field 'prompt'", id="no-prompt"),
        pytest.param({"user": "u1", "prompt": None}, "missing field 'prompt'", id="null-prompt"),
        pytest.param({"prompt": "x"}, "missing field 'user'", id="no-user"),
        pytest.param(
            {"user": "u1", "prompt": ["x"]}, "invalid value ['x'] for 'prompt'", id="list-prompt"
        ),
        pytest.param(
            {"user": "u1", "prompt": "x", "width": "wide"},
            "invalid value 'wide' for 'width': expected a whole number",
            id="width-text",
        ),
        pytest.param(
            {"user": "u1", "prompt": "x", "seconds": "slow"},
            "invalid value 'slow' for 'seconds': expected a number",
            id="seconds-text",
        ),
    ],
)
def test_read_trace_bad_field(tmp_path: Path, record: dict[str, object], expected: str) -> None:
    path = write_lines(tmp_path / "t.jsonl", record)

    message = read_error(path)

    assert message.startswith(f"{path}:1: {expected}")


def test_read_trace_missing_file(tmp_path: Path) -> None:
    message = read_error(tmp_path / "nope.jsonl")

    assert "cannot be read" in message
    assert "nope.jsonl" in message


def test_read_trace_warns_of_ignored_fields(tmp_path: Path, caplog) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text(
        '{"user": "u", "prompt": "a cat", "stpes": 150, "g": true}\n'
        '{"user": "u", "prompt": "a dog", "stpes": 20}\n',
        encoding="utf-8",
    )

    requests = list(read_trace(trace))

    assert [request.options for request in requests] == [{}, {}]
    assert "ignored fields 'stpes' (2 lines)" in caplog.text
    assert "'g'" not in caplog.text
