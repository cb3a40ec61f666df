"""Orchestra: API tests as code, run durably and in parallel against a System Under Test."""

import sys

__version__ = "0.1.0"


def _without_unused_extras() -> None:
    """Two libraries import extras of their own whenever those are installed, which Orchestra never uses
    and which cost a good part of every command's start-up (Rich's traceback and syntax modules, Pygments'
    lexers): structlog, Rich's exception formatter and reprs of locals (Orchestra's logs write plain
    tracebacks, kit/logging.py); httpx, its command-line client. structlog is imported here, before any
    other module does, with Rich hidden from it; httpx's client module is marked missing, so httpx
    defines the stub it has for an installation without the client's dependencies. Rich itself stays
    importable: the command line's tables and progress use it."""
    if "structlog" not in sys.modules:
        rich = sys.modules.get("rich")
        sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` raises ImportError
        try:
            import structlog  # noqa: F401
        finally:
            if rich is None:
                del sys.modules["rich"]
            else:
                sys.modules["rich"] = rich
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


_without_unused_extras()
