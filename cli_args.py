"""Command-line options of ``imagine-bot demo`` and the parsers that check their values."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from settings import MAX_EMBEDDED_SPEED

DEFAULT_TIMEOUT_S = 600.0


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``imagine-bot demo`` to ``parser``."""
    parser.add_argument("--headless", action="store_true", help="serve no page; exit when done")
    parser.add_argument(
        "--trace",
        type=Path,
        default=None,
        help="JSON-lines trace to replay (default: the bundled 500-request sample)",
    )
    parser.add_argument(
        "--jobs", type=_positive_int, default=30, help="requests to replay (default 30)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="folder for summary.json and the images, with --headless (default demo-out)",
    )
    parser.add_argument(
        "--speed",
        type=_embedded_speed,
        default=20.0,
        help="how much faster than the recorded GPU the stand-in draws (default 20)",
    )
    parser.add_argument(
        "--interval",
        type=_non_negative_float,
        default=2.0,
        help="seconds between replayed requests when a page is served (default 2)",
    )
    parser.add_argument(
        "--port", type=port_number, default=None, help="port of the page (default: any free)"
    )
    parser.add_argument(
        "--timeout",
        type=positive_number,
        default=DEFAULT_TIMEOUT_S,
        help="seconds before --headless stops and writes a partial summary (default 600)",
    )


def port_number(text: str) -> int:
    """Parse a TCP port for argparse: 1 to 65535, or 0 for any free port."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a valid port; give a port from 1 to 65535, or 0 for any free port"
        )
    return value


def positive_number(text: str) -> float:
    """Parse a finite number above 0 for argparse."""
    value = _number(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is invalid; give a number above 0, such as 1.5")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number; give a decimal number such as 1.5"
        ) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number; give one of at least 1, such as 30"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is invalid; give a whole number of at least 1")
    return value


def _embedded_speed(text: str) -> float:
    value = positive_number(text)
    if value > MAX_EMBEDDED_SPEED:
        raise argparse.ArgumentTypeError(
            f"{text} is too large; give a number above 0 and at most {MAX_EMBEDDED_SPEED:g}"
        )
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is invalid; give a number of 0 or more")
    return value
