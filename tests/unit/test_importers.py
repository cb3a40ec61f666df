"""curl command lines and HAR files read as test cases: every form a user pastes, and every hostile one
refused with a reason before anything is written."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from orchestra.definitions.loader import parse_document
from orchestra.importers.convert import from_curl, from_har, yaml_files
from orchestra.importers.curl import MAX_CURL_TEXT, parse_command
from orchestra.importers.har import MAX_HAR_BYTES
from orchestra.importers.requests import ImportRefused, escape_template
from orchestra.steps.templating import render_value


def only_step(text: str, **options: Any) -> dict[str, Any]:
    result = from_curl(text, **options)
    assert len(result.files) == 1
    steps = result.files[0].definition["steps"]
    assert len(steps) == 1
    return steps[0]


def test_a_browser_copy_as_curl_becomes_a_step_relative_to_the_base_url() -> None:
    step = only_step(
        "curl 'https://shop.example.com/api/items?limit=10&tag=a&tag=b' \\\n"
        "  -H 'accept: application/json' \\\n"
        "  -H 'content-type: application/json' \\\n"
        "  -H 'sec-ch-ua: \"Chromium\"' \\\n"
        '  --data-raw $\'{"name":"it\\\'s","n":1}\' \\\n'
        "  --compressed"
    )
    assert step["name"] == "POST /api/items"
    request = step["request"]
    assert request["method"] == "POST"
    assert request["url"] == "{{ env.base_url }}/api/items"
    assert request["query"] == {"limit": "10", "tag": ["a", "b"]}
    assert request["headers"] == {"accept": "application/json", "content-type": "application/json"}
    assert request["json"] == {"name": "it's", "n": 1}
    assert step["expect"] == {"status": "2xx"}


@pytest.mark.parametrize(
    ("command", "method", "extra"),
    [
        ("curl http://h/x", "GET", {}),
        ("curl -I http://h/x", "HEAD", {}),
        ("curl -XDELETE http://h/x", "DELETE", {}),
        ("curl --request patch http://h/x -d '{\"a\":1}'", "PATCH", {"body": '{"a":1}'}),  # sent as a form
        ("curl -sSL http://h/x", "GET", {"follow_redirects": True}),
        ("curl -m 2.5 http://h/x", "GET", {"timeout_ms": 2500}),
        ("curl -G -d q=1 --data-urlencode 'w=a b' http://h/x", "GET", {"query": {"q": "1", "w": "a b"}}),
        ("curl -d a=1 -d b=2 http://h/x", "POST", {"form": {"a": "1", "b": "2"}}),
        ("curl --json '{\"k\": [1]}' http://h/x", "POST", {"json": {"k": [1]}}),
        ("curl -d 'plain text' -H 'Content-Type: text/plain' http://h/x", "POST", {"body": "plain text"}),
        ("curl h/x", "GET", {}),
    ],
)
def test_curl_options(command: str, method: str, extra: dict[str, Any]) -> None:
    request = only_step(command)["request"]
    assert request["method"] == method
    for key, value in extra.items():
        assert request[key] == value


def test_credentials_are_left_out_or_become_secrets_never_yaml_text() -> None:
    command = (
        "curl -u bob:s3cret -b 'sid=abc123' -H 'X-Api-Key: k-999' -H 'Authorization: Bearer tok-1' "
        "'https://h.example/a?api_key=q-777&page=2'"
    )
    dropped = from_curl(command)
    text = yaml_files(dropped)[0][1]
    for value in ("s3cret", "Ym9iOnMzY3JldA", "abc123", "k-999", "tok-1", "q-777"):
        assert value not in text
    assert [s.name for s in dropped.secrets] == ["api_key", "x_api_key"]
    assert "Authorization" not in text
    assert "Cookie" not in text
    assert any("Authorization header was left out" in note for note in dropped.notes)

    kept = from_curl(command, keep_credentials=True)
    text = yaml_files(kept)[0][1]
    for value in ("s3cret", "abc123", "k-999", "tok-1", "q-777"):
        assert value not in text
    assert {s.name: s.value for s in kept.secrets} == {
        "api_key": "q-777",
        "authorization": "Basic Ym9iOnMzY3JldA==",
        "cookie": "sid=abc123",
        "x_api_key": "k-999",
        "authorization_2": "Bearer tok-1",
    }
    assert "{{ secrets.authorization_2 }}" in text


@pytest.mark.parametrize(
    "text",
    ["{{ 7*7 }}", "{% for i in range(10**9) %}x{% endfor %}", "{#", "{{{", "a{b}c", "}}{{", "{% raw %}"],
)
def test_captured_text_that_looks_like_a_template_is_sent_as_it_was(text: str) -> None:
    escaped = escape_template(text)
    assert render_value(escaped, {}) == text


def test_template_markup_in_every_part_of_a_command_is_escaped_and_the_file_reads_back() -> None:
    result = from_curl(
        "curl -X POST 'http://h/{{x}}?q={%25' -H 'X-T: {{ secrets.other }}' "
        "-H 'Content-Type: application/json' -d '{\"{{k}}\": \"{% if 1 %}\"}'"
    )
    name, text = yaml_files(result)[0]
    definition = parse_document(text, name)
    assert definition is not None
    request = result.files[0].definition["steps"][0]["request"]
    assert render_value(request["headers"]["X-T"], {}) == "{{ secrets.other }}"
    assert render_value(request["url"], {"env": {"base_url": "http://h"}}) == "http://h/{{x}}"
    assert render_value(next(iter(request["json"])), {}) == "{{k}}"


def test_a_file_of_commands_gives_one_test_case_each_with_unique_names() -> None:
    result = from_curl(
        "# listing\ncurl http://h/items\n\ncurl http://h/items\n$ curl -X POST http://h/items -d x=1\n"
    )
    assert [file.name for file in result.files] == ["get-items.yaml", "get-items-2.yaml", "post-items.yaml"]
    assert len({file.definition["name"] for file in result.files}) == 3


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no curl command found"),
        ("wget http://h/", "not a curl command"),
        ("curl 'http://h/", "cannot read the command line"),
        ("curl", "exactly one URL"),
        ("curl http://a/ http://b/", "exactly one URL"),
        ("curl -F file=@x.png http://h/", "reads a file: import it with `orchestra import curl`"),
        ("curl -T x.bin http://h/", "-T (a file upload as the body) has no form"),
        ("curl -d @body.json http://h/", "reads a file"),
        ("curl --data-urlencode name@file http://h/", "reading a file"),
        ("curl -b cookies.txt http://h/", "cookie file"),
        ("curl --frobnicate http://h/", "unknown curl option --frobnicate"),
        ("curl -sZ http://h/", "unknown curl option -Z"),
        ("curl -H 'no colon' http://h/", "a header is 'Name: value'"),
        ("curl -m soon http://h/", "--max-time expects seconds"),
        ("curl -X TRACE http://h/", "method"),
        ("curl ftp://h/file", "not an http(s) URL"),
        ("curl -H", "-H needs a value"),
        ("curl http://h/\x00", "NUL"),
        ("curl http://h/" + "a" * MAX_CURL_TEXT, "at most 1,048,576"),
        ("curl http://h/\n" * 1001, "at most 1,000"),
    ],
)
def test_hostile_or_unsupported_commands_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ImportRefused, match=None) as refused:
        from_curl(text)
    assert reason in str(refused.value), str(refused.value)


def test_the_basic_credentials_of_u_are_encoded_as_curl_sends_them() -> None:
    request = parse_command("curl -u 'user:pa:ss' http://h/")
    assert request.headers == [("Authorization", "Basic dXNlcjpwYTpzcw==")]


def test_form_fields_and_files_become_a_multipart_body_as_curl_sends_them(tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "note.txt").write_text("héllo {{ x }}", encoding="utf-8")
    command = (
        "curl https://shop.example.com/upload -H 'Content-Type: multipart/form-data; boundary=X' "
        "-F name=pen -F 'photo=@photo.png;type=image/png;filename=\"a;b.png\"' -F 'note=<note.txt' "
        "--form-string 'raw=@not-a-file;type=x' -F 'plain=a;b' -F doc=@note.txt"
    )
    step = only_step(command, working_dir=tmp_path)
    request = step["request"]
    assert request["method"] == "POST"
    assert "headers" not in request  # the boundary is the runner's own
    png = base64.b64encode(b"\x89PNG\r\n").decode()
    assert request["multipart"] == {
        "name": "pen",
        "photo": {"filename": "a;b.png", "content_base64": png, "content_type": "image/png"},
        "note": "héllo {{ '{' }}{ x }}",  # a file's text is sent as it is, not rendered
        "raw": "@not-a-file;type=x",
        "plain": "a;b",
        "doc": {
            "filename": "note.txt",
            "content_base64": base64.b64encode("héllo {{ x }}".encode()).decode(),
        },
    }
    assert render_value(request["multipart"]["note"], {}) == "héllo {{ x }}"


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        ("-F name=a -F name=b", "-F name is given twice"),
        ("-F name=a -d x=1", "-F cannot be combined with -d"),
        ("-F name=a -G", "-F cannot be combined"),
        ("-F noequals", "-F expects name=value"),
        ("-F =nameless", "-F expects name=value"),
        ("-F 'a=x;type=text/plain'", "a text field's ;type= has no form"),
        ("-F 'f=@note.txt;headers=X-A: 1'", "the part modifier(s) headers have no form"),
        ("-F 'f=<note.txt;type=text/plain'", "the part modifier(s) type have no form"),
        ("-F 'f=@\"note.txt'", "opens a double quote it does not close"),
        ("-F 'f=@\"note.txt\"x'", "cannot read the -F value"),
        ("-F 'f=@\"note.txt\";size=3'", "unknown -F modifier"),
        ("-F f=@", "names no file"),
        ("-F f=@../outside.txt", "is outside the working directory"),
        ("-F f=@/etc/hostname", "is outside the working directory"),
        ("-F f=@missing.txt", "cannot read the file 'missing.txt'"),
        ("-F f=<binary.bin", "is not UTF-8 text"),
        ("-F f=@big.bin", "larger than 512 KiB in all"),
        ("-F f=@pipe", "'pipe' is not a regular file"),
    ],
)
def test_hostile_or_unsupported_form_fields_are_refused_with_a_reason(
    tmp_path: Path, option: str, reason: str
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "note.txt").write_text("n")
    (folder / "binary.bin").write_bytes(b"\xff\xfe\x00")
    (folder / "big.bin").write_bytes(b"0" * (512 * 1024 + 1))
    os.mkfifo(folder / "pipe")  # would block a plain open
    (tmp_path / "outside.txt").write_text("secret")
    with pytest.raises(ImportRefused) as refused:
        from_curl(f"curl {option} http://h/", working_dir=folder)
    assert reason in str(refused.value), str(refused.value)


def har(*entries: dict[str, Any], version: str = "1.2") -> bytes:
    return json.dumps(
        {"log": {"version": version, "creator": {"name": "t"}, "entries": list(entries)}}
    ).encode()


def entry(
    method: str, url: str, status: int = 200, mime: str = "application/json", **request: Any
) -> dict[str, Any]:
    return {
        "request": {"method": method, "url": url, "headers": request.pop("headers", []), **request},
        "response": {"status": status, "content": {"mimeType": mime}},
    }


def test_a_har_session_becomes_one_test_case_expecting_what_was_observed() -> None:
    content = har(
        entry("GET", "https://app.example/", mime="text/html; charset=utf-8"),
        entry("GET", "https://app.example/logo.png", mime="image/png"),
        entry("GET", "https://cdn.example/app.js", mime="application/javascript"),
        entry(
            "POST",
            "https://app.example/api/login",
            headers=[
                {"name": "Content-Type", "value": "application/json"},
                {"name": ":authority", "value": "x"},
            ],
            postData={"mimeType": "application/json", "text": '{"user":"u"}'},
        ),
        entry(
            "GET",
            "https://app.example/api/me",
            headers=[{"name": "Authorization", "value": "Bearer jwt-1"}, {"name": "Cookie", "value": "a=b"}],
        ),
        entry("DELETE", "https://app.example/api/session", status=204, mime=""),
        entry("GET", "https://metrics.example/beacon", status=204, mime=""),
    )
    result = from_har(content, name="checkout.har", include=["app.example"], keep_credentials=True)
    assert [file.name for file in result.files] == ["checkout.yaml"]
    steps = result.files[0].definition["steps"]
    assert [step["name"] for step in steps] == [
        "GET /",
        "POST /api/login",
        "GET /api/me",
        "DELETE /api/session",
    ]
    assert steps[0]["expect"] == {"status": 200, "headers": {"Content-Type": {"contains": "text/html"}}}
    assert steps[1]["request"]["json"] == {"user": "u"}
    assert ":authority" not in steps[1]["request"]["headers"]
    assert steps[2]["request"]["headers"] == {
        "Authorization": "{{ secrets.authorization }}",
        "Cookie": "{{ secrets.cookie }}",
    }
    assert steps[3]["expect"] == {"status": 204}
    assert result.base_url == "https://app.example"
    assert result.notes[:2] == [
        "2 static or non-http entries were left out",
        "1 requests to other hosts were left out",
    ]
    assert "jwt-1" not in yaml_files(result)[0][1]


def test_har_form_fields_recorded_without_the_body_text_become_a_form_or_multipart_body() -> None:
    fields = [{"name": "note", "value": "quarterly {{ x }}"}, {"name": "empty"}]
    content = har(
        entry(
            "POST",
            "http://h/a",
            postData={"mimeType": "multipart/form-data; boundary=B", "params": fields},
            headers=[{"name": "Content-Type", "value": "multipart/form-data; boundary=B"}],
        ),
        entry(
            "POST", "http://h/b", postData={"mimeType": "application/x-www-form-urlencoded", "params": fields}
        ),
    )
    first, second = from_har(content, name="s.har").files[0].definition["steps"]
    assert first["request"]["multipart"] == {"note": "quarterly {{ '{' }}{ x }}", "empty": ""}
    assert "headers" not in first["request"]  # the runner writes its own boundary
    assert second["request"]["form"] == {"note": "quarterly {{ '{' }}{ x }}", "empty": ""}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "the document is not an object"),
        (b'{"log": []}', "log is not an object"),
        (har(version="2.0"), "HAR version '2.0' is not supported"),
        (json.dumps({"log": {"entries": []}}).encode(), "HAR version None"),
        (har(), "holds no request"),
        (har(entry("GET", "http://h/", mime="image/png")), "holds no request"),
        (har({"request": {"method": "GET"}, "response": {}}), "request.url is not text"),
        (
            har({"request": {"method": "GET", "url": "http://h/", "headers": "x"}}),
            "request.headers is not a list",
        ),
        (
            har(
                entry(
                    "POST",
                    "http://h/",
                    postData={
                        "mimeType": "multipart/form-data",
                        "params": [{"name": "f", "fileName": "a.png"}],
                    },
                )
            ),
            "holds no content of the file 'a.png' uploaded as 'f'",
        ),
        (
            har(
                entry(
                    "POST",
                    "http://h/",
                    postData={"mimeType": "multipart/form-data", "params": [{"name": "f"}, {"name": "f"}]},
                )
            ),
            "a multipart field is given twice",
        ),
        (
            har(
                entry(
                    "POST",
                    "http://h/",
                    postData={"mimeType": "multipart/form-data", "params": [{"value": "x"}]},
                )
            ),
            "params[].name is not text",
        ),
        (b"[" * 100 + b"]" * 100, "nests deeper than 64"),
        (b" " * (MAX_HAR_BYTES + 1), "at most 20,971,520"),
        (har(*[entry("GET", f"http://h/{n}") for n in range(1001)]), "at most 1,000"),
    ],
)
def test_hostile_or_unsupported_har_files_are_refused_with_a_reason(content: bytes, reason: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        from_har(content, name="x.har")
    assert reason in str(refused.value), str(refused.value)
