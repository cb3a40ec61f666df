"""Form-data file fields of a Postman collection: read from the working directory into the test case (their
content in base64, so it travels with the run), sent as file parts; paths outside it, missing files, several
files in one field and too much content refused with the reason; none read where no folder is given (the
API)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from orchestra.definitions.testcase_model import RequestSpec
from orchestra.importers.convert import from_postman
from orchestra.importers.postman_uploads import MAX_UPLOAD_BYTES
from orchestra.importers.requests import ImportRefused
from orchestra.steps.request_step import _build_request

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def form_collection(*formdata: dict[str, Any]) -> bytes:
    body = {"mode": "formdata", "formdata": list(formdata)}
    item = {"name": "upload", "request": {"method": "POST", "url": "http://h/up", "body": body}}
    return json.dumps({"info": {"name": "c", "schema": V21}, "item": [item]}).encode()


def multipart_of(content: bytes, working_dir: Path | None) -> dict[str, Any]:
    result = from_postman(content, name="c.json", working_dir=working_dir)
    return dict(result.files[0].definition["steps"][0]["request"]["multipart"])


def test_file_fields_are_read_from_the_working_directory_in_their_order(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "report.csv").write_bytes(b"a,b\n1,2\n")
    content = form_collection(
        {"key": "note", "value": "hello", "type": "text"},
        {"key": "report", "type": "file", "src": "files/report.csv"},
        {"key": "typed", "type": "file", "src": ["files/report.csv"], "contentType": "application/x-custom"},
        {"key": "off", "type": "file", "src": "missing.bin", "disabled": True},
    )
    multipart = multipart_of(content, tmp_path)
    assert list(multipart) == ["note", "report", "typed"]
    assert multipart["note"] == "hello"
    encoded = base64.b64encode(b"a,b\n1,2\n").decode()
    assert multipart["report"] == {"filename": "report.csv", "content_base64": encoded}
    assert multipart["typed"]["content_type"] == "application/x-custom"
    absolute = form_collection({"key": "f", "type": "file", "src": str(tmp_path / "files" / "report.csv")})
    assert multipart_of(absolute, tmp_path)["f"]["filename"] == "report.csv"  # inside the folder: read


def test_the_parts_are_sent_with_their_names_contents_and_content_types(tmp_path: Path) -> None:
    (tmp_path / "report.csv").write_bytes(b"a,b\n")
    (tmp_path / "blob").write_bytes(b"\x00\x01\xff")
    content = form_collection(
        {"key": "note", "value": "hello"},
        {"key": "report", "type": "file", "src": "report.csv"},
        {"key": "blob", "type": "file", "src": "blob"},
        {"key": "typed", "type": "file", "src": "report.csv", "contentType": "application/x-custom"},
    )
    spec = RequestSpec.model_validate({"url": "http://h/up", "multipart": multipart_of(content, tmp_path)})
    request = _build_request(httpx.AsyncClient(), spec.model_dump(by_alias=True, exclude_none=True))
    body = request.content
    assert b'name="note"\r\n\r\nhello\r\n' in body
    assert b'name="report"; filename="report.csv"\r\nContent-Type: text/csv\r\n\r\na,b\n\r\n' in body
    assert b'filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\xff\r\n' in body
    assert b'filename="report.csv"\r\nContent-Type: application/x-custom\r\n' in body


@pytest.mark.parametrize(
    ("src", "needle"),
    [
        ("../secret.txt", "is outside the working directory"),
        ("/etc/hostname", "is outside the working directory"),
        ("link.txt", "is outside the working directory"),  # a symbolic link out
        ("nope.txt", "cannot read the file 'nope.txt': No such file or directory"),
        ("", "names no file"),
    ],
)
def test_paths_outside_the_working_directory_and_missing_files_are_refused(
    tmp_path: Path, src: str, needle: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "secret.txt").write_text("not for the collection")
    os.symlink(tmp_path / "secret.txt", work / "link.txt")
    content = form_collection({"key": "f", "type": "file", "src": src})
    if not src:  # Postman's "no file chosen": the field is left out, noted
        result = from_postman(content, name="c.json", working_dir=work)
        assert result.files[0].definition["steps"][0]["request"]["multipart"] == {}
        assert any(needle in note for note in result.notes)
        return
    with pytest.raises(ImportRefused, match=needle) as refused:
        from_postman(content, name="c.json", working_dir=work)
    assert "request 'upload'" in str(refused.value)


def test_several_files_in_one_field_and_too_much_content_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    several = form_collection({"key": "f", "type": "file", "src": ["a.txt", "a.txt"]})
    with pytest.raises(ImportRefused, match="names several files; one is supported"):
        from_postman(several, name="c.json", working_dir=tmp_path)
    (tmp_path / "big.bin").write_bytes(b"x" * (MAX_UPLOAD_BYTES // 2 + 1))
    twice = form_collection(
        {"key": "one", "type": "file", "src": "big.bin"}, {"key": "two", "type": "file", "src": "big.bin"}
    )
    with pytest.raises(ImportRefused, match="larger than 512 KiB in all"):
        from_postman(twice, name="c.json", working_dir=tmp_path)


def test_without_a_working_directory_file_fields_are_left_out_and_noted() -> None:
    content = form_collection(
        {"key": "t", "value": "v"}, {"key": "f", "type": "file", "src": "/etc/hostname"}
    )
    result = from_postman(content, name="c.json")  # as the API imports: nothing is read
    assert result.files[0].definition["steps"][0]["request"]["multipart"] == {"t": "v"}
    assert any("files are read by the command line only" in note for note in result.notes)


@pytest.mark.parametrize(
    ("part", "needle"),
    [
        ({"filename": "a.txt", "content_base64": "not base64!"}, "content_base64 is not base64"),
        ({"filename": 'a"b.txt', "content_base64": ""}, "without a double quote"),
        ({"filename": "", "content_base64": ""}, "at least 1 character"),
        ({"filename": "a.txt"}, "content_base64"),
        ({"filename": "a.txt", "content_base64": "", "path": "/etc/passwd"}, "Extra inputs"),
    ],
)
def test_a_file_part_of_the_test_language_is_checked(part: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        RequestSpec.model_validate({"url": "http://h/up", "multipart": {"f": part}})
