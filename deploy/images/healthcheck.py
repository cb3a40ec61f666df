#!/opt/orchestra/bin/python
"""The image's health check: asks this container's Orchestra service whether it is ready.

Usage: ``orchestra-healthcheck [api|executor|ai]``. Without an argument the role is read from the command
line of the container's main process (``orchestra api`` …); a migration or any other command has nothing to
probe and counts as healthy. Exit 0 when the service answers 2xx within 3 seconds, 1 otherwise (with the
reason on stderr). Standard library only: it runs in the image beside Orchestra, not as part of it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

# role -> (the setting that moves its port, the default port, the path answering once it is ready)
PROBES = {
    "api": ("ORCHESTRA_PORT", 8000, "/api/v1/health/ready"),
    "executor": ("ORCHESTRA_EXECUTOR_HEALTH_PORT", 8001, "/health/ready"),
    "ai": ("ORCHESTRA_AI_PORT", 8002, "/health"),
}
TIMEOUT_S = 3.0


def role_of_main_process(cmdline_path: str = "/proc/1/cmdline") -> str | None:
    """The first Orchestra role named on the main process's command line, if any."""
    try:
        with open(cmdline_path, "rb") as cmdline:
            words = cmdline.read().decode(errors="replace").split("\0")
    except OSError:
        return None
    return next((word for word in words if word in PROBES), None)


def probe_url(role: str, environ: dict[str, str]) -> str:
    setting, default_port, path = PROBES[role]
    port = environ.get(setting) or str(default_port)
    return f"http://127.0.0.1:{port}{path}"


def check(url: str) -> str | None:
    """None when the service answered 2xx, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (OSError, ValueError) as error:
        return f"{url} did not answer: {error}"
    return None if 200 <= status < 300 else f"{url} answered {status}"


def main(argv: list[str]) -> int:
    role = argv[0] if argv else role_of_main_process()
    if role is None:
        return 0
    if role not in PROBES:
        sys.stderr.write(f"orchestra-healthcheck: unknown role {role!r} (api, executor or ai)\n")
        return 2
    problem = check(probe_url(role, dict(os.environ)))
    if problem is not None:
        sys.stderr.write(f"orchestra-healthcheck: {problem}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
