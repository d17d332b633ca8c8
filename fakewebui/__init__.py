"""A stand-in for the AUTOMATIC1111 Stable Diffusion WebUI API (v1.10), built on aiohttp.

It serves the ``/sdapi/v1`` routes with A1111's request defaults, response and error shapes,
progress semantics and FIFO generation lock. It draws deterministic placeholder images with
Pillow. Each job takes as long as a cost model fitted to real generation times predicts,
divided by a speed factor. Tests can arm faults (``FAULT_KINDS``) through
``FakeWebUI.fail_next`` or the ``/fake/faults`` route.
"""

from __future__ import annotations

from fakewebui.app import create_app
from fakewebui.errors import InvalidModelListError
from fakewebui.faults import FAULT_KINDS
from fakewebui.server import FakeWebUI, serve

__all__ = ["FAULT_KINDS", "FakeWebUI", "InvalidModelListError", "create_app", "serve"]
