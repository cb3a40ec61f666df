"""A stand-alone executor keeps in memory what executing runs needs, not what other processes do.

`orchestra executor` imports the command line, the distributed services and the runtime; what only the API
(its app, migrations, schedules), the data planner or secret decryption need is loaded by those, or at its
first use. Checked in a fresh interpreter, by the modules it has loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

# What `orchestra executor` imports before it starts (cli/main.py, then cli/distributed.py's executor path).
EXECUTOR_IMPORTS = ("orchestra.cli.main", "orchestra.cli.distributed", "orchestra.broker.rabbitmq")
NOT_AT_IDLE = {
    "fastapi": "the API's framework (the executor's health endpoints do without)",
    "uvicorn": "the API's server",
    "alembic": "migrations (an executor never migrates; is_at_head reads the revision without it)",
    "faker": "test data generation (loaded by the first run that declares data)",
    "cryptography": "secret decryption (loaded at the first secret)",
    "orchestra.app": "the API's app",
    "orchestra.cli.runner": "the client side of `orchestra run`",
    "orchestra.testdata.provider": "the plan provider (made at the first run that declares data)",
    "orchestra.schedules.firing": "the scheduler's schedule firing",
}


def test_an_idle_executor_has_not_loaded_what_only_other_processes_or_later_runs_need() -> None:
    code = (
        "import json, sys\n"
        + "".join(f"import {module}\n" for module in EXECUTOR_IMPORTS)
        + "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    )
    assert "orchestra.executor.worker" in loaded  # the check itself sees the executor
    unexpected = {module: why for module, why in NOT_AT_IDLE.items() if module in loaded}
    assert not unexpected, unexpected
