"""The third-party DataPlan benchmark (bench/dataplan_thirdparty.py) without installing anything: a SUT that
cannot be installed is reported as skipped with the reason, never as a pass, and what is left in a SUT is
counted per collection the description can delete."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.bench_scripts import load_bench

suts = load_bench("thirdparty_suts")
bench = load_bench("dataplan_thirdparty")


def test_an_installer_that_fails_makes_the_sut_unavailable_with_its_output(tmp_path: Path) -> None:
    log = tmp_path / "install.log"
    command = [sys.executable, "-c", "import sys; print('no such package here'); sys.exit(3)"]
    with pytest.raises(suts.Unavailable) as why:
        suts._run(command, log)
    assert "failed (3)" in str(why.value)
    assert "no such package here" in str(why.value)


def test_a_skipped_sut_is_named_in_the_last_line_not_given_figures() -> None:
    line = bench.summary({"directus": "Directus skipped: npm is not installed"}, 3, 5, 2)
    assert line == "seeds=3 examples=5 repairs=2 directus_skipped=1"


def test_leaks_are_what_a_generator_left_beyond_what_was_there() -> None:
    before = {"/flows": 2, "/work_pools": 1}
    after = {"/flows": 2, "/work_pools": 3, "/variables": 1}
    assert bench._left(before, after) == {"/work_pools": 2, "/variables": 1}


def test_only_top_level_collections_with_a_delete_of_their_items_are_listed() -> None:
    # A nested collection needs its parent to be listed; its items go with the parent's deletion.
    document = {
        "paths": {
            "/flows/": {"post": {}},
            "/flows/{id}": {"get": {}, "delete": {}},
            "/logs/": {"post": {}},
            "/work_pools/{name}": {"delete": {}},
            "/work_pools/{work_pool_name}/queues/{name}": {"delete": {}},
        }
    }
    assert suts._deletable_collections(document) == ["/flows", "/work_pools"]
