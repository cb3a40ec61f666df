"""The executable's launcher: which commands go to a warm process, where its state lives, and when a warm
process's code is stale (tests/e2e/test_cli_warm.py runs the real thing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import orchestra_launcher as launcher
from orchestra.cli.warm import RefusedRequest, WarmProcess, _command, idle_seconds

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the warm process is for Linux")


@linux_only
@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["run", "tests"], {}, True),
        (["run", "tests"], {"ORCHESTRA_WARM_START": "off"}, False),
        (["run", "tests"], {"ORCHESTRA_WARM_START": "0"}, False),
        (["run", "tests"], {"CI": "true"}, False),
        (["run", "tests"], {"CI": "1", "ORCHESTRA_WARM_START": "on"}, True),
        (["run", "tests"], {"CI": "false"}, True),
        (["run", "tests"], {"ORCHESTRA_WARM_START": " ON "}, True),
        (["up"], {}, False),
        (["apply", "run"], {}, False),
        ([], {}, False),
    ],
)
def test_only_a_run_goes_to_the_warm_process_unless_switched_off_or_under_ci(
    argv: list[str], environ: dict[str, str], expected: bool
) -> None:
    assert launcher.wanted(argv, environ) is expected


def test_the_state_directory_is_private_and_one_that_others_may_enter_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    state = launcher.state_dir()
    assert state is not None
    assert state.parent == tmp_path / f"orchestra-{os.getuid()}"
    assert state.parent.stat().st_mode & 0o777 == 0o700
    assert state.stat().st_mode & 0o777 == 0o700
    assert launcher.state_dir() == state  # the same installation: the same directory

    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    assert launcher.state_dir() not in (None, state)  # other code may be loaded: another warm process

    state.parent.chmod(0o755)
    assert launcher.state_dir() is None


def test_a_changed_or_removed_module_file_makes_the_warm_process_stale(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("x = 1\n")
    warm = WarmProcess(tmp_path, lock=-1, loaded={str(module): module.stat().st_mtime_ns})
    assert not warm.stale()
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 1_000_000))
    assert warm.stale()
    warm.loaded = {str(module): module.stat().st_mtime_ns}
    module.unlink()
    assert warm.stale()


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"argv": "run", "cwd": "/", "env": {}, "stdio": [["utf-8", "strict"]] * 3},
        {"argv": ["run"], "cwd": 7, "env": {}, "stdio": [["utf-8", "strict"]] * 3},
        {"argv": ["run"], "cwd": "/", "env": {"A": 1}, "stdio": [["utf-8", "strict"]] * 3},
        {"argv": ["run"], "cwd": "/", "env": {}, "stdio": [["utf-8", "strict"]] * 2},
        {"argv": ["run"], "cwd": "/", "env": {}, "stdio": [["utf-8"]] * 3},
        ["run"],
        "run",
    ],
)
def test_a_request_that_is_not_a_command_is_refused(request_: object) -> None:
    with pytest.raises(RefusedRequest):
        _command(request_, [])


def test_a_command_request_is_read_as_it_was_sent() -> None:
    sent = {"argv": ["run", "t.yaml"], "cwd": "/w", "env": {"A": "b"}, "stdio": [["utf-8", "strict"]] * 3}
    command = _command(sent, [3, 4, 5])
    assert (command.argv, command.cwd, command.env) == (["run", "t.yaml"], "/w", {"A": "b"})
    assert command.streams == [3, 4, 5]


@pytest.mark.parametrize(("value", "expected"), [("", 900.0), ("30", 30.0), ("-1", 900.0), ("soon", 900.0)])
def test_the_idle_time_is_read_from_the_environment(value: str, expected: float) -> None:
    assert idle_seconds({"ORCHESTRA_WARM_IDLE_S": value} if value else {}) == expected


def test_the_launcher_loads_nothing_but_the_standard_library() -> None:
    """What a warm `orchestra run` costs besides the run: the launcher's own imports."""
    probe = "import json, sys; import orchestra_launcher; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True).stdout)
    outside = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "orchestra_launcher"
    ]
    # an editable install's import hook may be there (site-packages' .pth files run before any import)
    assert [
        name for name in outside if not name.startswith(("__main__", "__editable__", "_distutils_hack"))
    ] == []
