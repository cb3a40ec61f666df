"""`orchestra run` turns the Postman collections among its paths into folders of YAML, and leaves everything
else as it is — without loading the converters when there is no collection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestra.cli.importing import collections_as_folders
from orchestra.cli.usage import UsageError

COLLECTION = {
    "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
    "item": [{"name": "ping", "request": {"method": "GET", "url": "http://127.0.0.1:1/ping"}}],
}


def test_yaml_paths_are_kept_and_a_collection_becomes_a_folder(tmp_path: Path) -> None:
    yaml_file = tmp_path / "one.yaml"
    yaml_file.write_text("name: one\nsteps: []\n")
    assert collections_as_folders([yaml_file], tmp_path, environment=None, globals_=None, folders=[]) == (
        [yaml_file],
        [],
    )
    collection = tmp_path / "shop.postman_collection.json"
    collection.write_text(json.dumps(COLLECTION))
    scratch = tmp_path / "scratch"
    paths, results = collections_as_folders(
        [yaml_file, collection], scratch, environment=None, globals_=None, folders=[]
    )
    assert paths == [yaml_file, scratch / "shop"]
    assert len(results) == 1
    assert list((scratch / "shop").glob("*.yaml"))


def test_collection_options_without_a_collection_are_refused(tmp_path: Path) -> None:
    yaml_file = tmp_path / "one.yaml"
    yaml_file.write_text("name: one\nsteps: []\n")
    with pytest.raises(UsageError, match="go with a Postman collection"):
        collections_as_folders(
            [yaml_file], tmp_path, environment=tmp_path / "env.json", globals_=None, folders=[]
        )
    with pytest.raises(UsageError, match="go with a Postman collection"):
        collections_as_folders([yaml_file], tmp_path, environment=None, globals_=None, folders=["a"])


def test_without_a_collection_the_converters_are_not_loaded(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text("name: one\nsteps: []\n")
    code = (
        "import json, sys\nfrom pathlib import Path\n"
        "from orchestra.cli.importing import collections_as_folders\n"
        f"collections_as_folders([Path({str(tmp_path / 'one.yaml')!r})], Path({str(tmp_path)!r}), "
        "environment=None, globals_=None, folders=[])\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    )
    assert "orchestra.cli.importing" in loaded
    assert not {"orchestra.importers.postman", "orchestra.importers.convert", "httpx"} & loaded
