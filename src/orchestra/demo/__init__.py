"""The demo System Under Test that Orchestra's example suite (examples/demo) runs against.

Serve it with ``python -m orchestra.demo --port 8081``; build it in-process with ``create_app()``.
"""

from __future__ import annotations

from orchestra.demo.sut import DEMO_PASSWORD, DEMO_USERNAME, create_app

__all__ = ["DEMO_PASSWORD", "DEMO_USERNAME", "create_app"]
