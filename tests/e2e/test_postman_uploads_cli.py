"""`orchestra run collection.json` with form-data file fields: the files, read from the working directory,
reach the demo SUT as file parts (its /echo answers the body it got); a missing file or one outside the
working directory is refused before anything is sent (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import orchestra

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
CHECKS = [
    "const body = pm.response.json().body;",
    "pm.test('the file arrived as a part of its own', () => {",
    '  pm.expect(body).to.include(\'name="report"; filename="report.csv"\\r\\nContent-Type: text/csv\');',
    "  pm.expect(body).to.include('\\r\\n\\r\\nid,name\\n1,first\\n\\r\\n');",
    "  pm.expect(body).to.include('name=\"note\"\\r\\n\\r\\nquarterly\\r\\n');",
    "  pm.expect(body).to.include('filename=\"notes.bin\"\\r\\nContent-Type: application/x-notes');",
    "});",
]


def upload_collection(demo_sut: str, src: str) -> dict[str, object]:
    formdata = [
        {"key": "note", "value": "quarterly", "type": "text"},
        {"key": "report", "type": "file", "src": src},
        {"key": "notes", "type": "file", "src": "files/notes.bin", "contentType": "application/x-notes"},
    ]
    return {
        "info": {"name": "uploads", "schema": SCHEMA},
        "item": [
            {
                "name": "upload",
                "event": [{"listen": "test", "script": {"exec": CHECKS}}],
                "request": {
                    "method": "POST",
                    "url": f"{demo_sut}/echo",
                    "body": {"mode": "formdata", "formdata": formdata},
                },
            }
        ],
    }


def test_form_data_files_are_uploaded_and_bad_paths_are_refused(demo_sut: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "files").mkdir(parents=True)
    (work / "files" / "report.csv").write_text("id,name\n1,first\n")
    (work / "files" / "notes.bin").write_text("n")
    (tmp_path / "private.csv").write_text("not for the collection\n")
    collection, data_dir = work / "c.postman_collection.json", tmp_path / "data"
    collection.write_text(json.dumps(upload_collection(demo_sut, "files/report.csv")))
    report = tmp_path / "report.json"

    run = orchestra("run", collection.name, "--json", str(report), data_dir=data_dir, cwd=work)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "the file arrived as a part of its own" in report.read_text()

    for src, reason in [
        ("files/missing.csv", "cannot read the file 'files/missing.csv': No such file or directory"),
        ("../private.csv", "the file '../private.csv' is outside the working directory"),
    ]:
        collection.write_text(json.dumps(upload_collection(demo_sut, src)))
        refused = orchestra("run", collection.name, data_dir=data_dir, cwd=work)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"request 'upload': {reason}" in refused.stderr
