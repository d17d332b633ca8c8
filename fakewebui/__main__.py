"""Command line of the fake WebUI: ``python -m fakewebui [--port N] [--model FILE ...]``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from fakewebui.errors import FakeWebUIError
from fakewebui.server import serve


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a fake WebUI until Ctrl+C and return the exit code: 0, or 2 for invalid options."""
    parser = _parser()
    args = parser.parse_args(argv)
    # The entry point, not the package, sets up logging, so log lines reach the terminal.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        serve(args.host, args.port, args.speed, args.model)
    except FakeWebUIError as exc:
        parser.error(str(exc))
    except OSError as exc:
        print(f"fakewebui: cannot listen on {args.host}:{args.port} ({exc})", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fakewebui",
        description="Serve a stand-in for the AUTOMATIC1111 WebUI API that draws placeholders.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7860, help="TCP port to listen on")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="factor by which generation runs faster than on the calibrated GPU",
    )
    parser.add_argument(
        "--model",
        action="append",
        metavar="FILE",
        help=(
            "model file to list, as a path under the models folder such as "
            "SDXL/juggernaut.safetensors; repeat for more, the first is loaded at start "
            "(default: v1-5-pruned-emaonly.safetensors and sd_xl_base_1.0.safetensors)"
        ),
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
