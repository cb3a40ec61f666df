"""The `orchestra` executable (and ``python -m orchestra.cli``): the command line in a process of its own.

A short command's start-up is mostly imports, which allocate hundreds of thousands of objects that live as
long as the process; the cyclic garbage collector would walk them again and again while they are made
(about a tenth of the import time) and all of them once more while the interpreter exits. So it is paused
until the command's modules are loaded (``main._imports_done`` freezes what they made and resumes it), and
at exit everything is frozen first: nothing is left to walk (finalisers and exit handlers still run).
"""

from __future__ import annotations

import atexit
import gc


def main() -> None:
    gc.disable()
    atexit.register(gc.freeze)  # registered first, so it runs after every other exit handler

    from orchestra.cli import main as cli

    cli._collector_paused = True
    cli.app(prog_name="orchestra")
