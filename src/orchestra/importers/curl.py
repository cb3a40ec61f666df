"""curl command lines (as pasted from a ticket or a browser's "Copy as cURL") read as requests.

Understood: -X, -H, -d/--data/--data-raw/--data-binary/--data-ascii, --data-urlencode, --json, -G, -u,
-b (a cookie string), -A, -e, -I, -L, -m, --url; combined short flags (-sSL) and attached values (-XPOST).
Shell continuations (a backslash at the end of a line) and bash's $'…' quoting are read as bash reads them.
-F/--form/--form-string become a ``multipart`` body (curl_forms.py; a file is read only under the working
directory of a command-line import). Options that change only how curl prints or connects (-s, -v, -k,
--compressed, -o …) are ignored; those that need something the test language has no form for (-T uploads,
reading a body from a file with -d @file) refuse the command with the reason.
"""

from __future__ import annotations

import base64
import re
import shlex
from urllib.parse import quote_plus, urlsplit, urlunsplit

from orchestra.importers.curl_forms import form_part
from orchestra.importers.postman_uploads import UploadFolder
from orchestra.importers.requests import ImportedRequest, ImportRefused

MAX_CURL_TEXT = 1_048_576  # characters of a pasted command or a file of them
MAX_COMMANDS = 1000

_WITH_VALUE = {
    "-X": "method",
    "--request": "method",
    "-H": "header",
    "--header": "header",
    "-d": "data",
    "--data": "data",
    "--data-raw": "data-raw",
    "--data-binary": "data",
    "--data-ascii": "data",
    "--data-urlencode": "data-urlencode",
    "--json": "json",
    "-u": "user",
    "--user": "user",
    "-b": "cookie",
    "--cookie": "cookie",
    "-A": "agent",
    "--user-agent": "agent",
    "-e": "referer",
    "--referer": "referer",
    "-m": "max-time",
    "--max-time": "max-time",
    "--url": "url",
    "-F": "form",
    "--form": "form",
    "--form-string": "form",
    "-T": "upload",
    "--upload-file": "upload",
    # Values read and ignored: they change how curl connects or prints, not the request.
    "-o": None,
    "--output": None,
    "-w": None,
    "--write-out": None,
    "--connect-timeout": None,
    "--retry": None,
    "--cacert": None,
    "--cert": None,
    "--key": None,
    "-x": None,
    "--proxy": None,
    "--resolve": None,
    "-c": None,
    "--cookie-jar": None,
    "--max-redirs": None,
    "-r": None,
    "--range": None,
}
_FLAGS = {
    "-G": "get",
    "--get": "get",
    "-I": "head",
    "--head": "head",
    "-L": "location",
    "--location": "location",
}
_IGNORED_FLAGS = {
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-v",
    "--verbose",
    "-k",
    "--insecure",
    "--compressed",
    "-i",
    "--include",
    "-f",
    "--fail",
    "--fail-with-body",
    "-N",
    "--no-buffer",
    "-#",
    "--progress-bar",
    "-g",
    "--globoff",
    "--http1.1",
    "--http2",
    "--http2-prior-knowledge",
    "-0",
    "--http1.0",
    "-4",
    "-6",
    "--ipv4",
    "--ipv6",
    "-sS",
    "--location-trusted",
    "-O",
    "--remote-name",
    "-J",
    "--remote-header-name",
}
_SHORT_WITH_VALUE = {option[1] for option in _WITH_VALUE if len(option) == 2}
_SHORT_FLAGS = {option[1] for option in {*_FLAGS, *_IGNORED_FLAGS} if len(option) == 2}
_ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'", re.DOTALL)
_ANSI_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "f": "\f",
    "v": "\v",
    "?": "?",
}


def _ansi_c(match: re.Match[str]) -> str:
    """bash's $'…' text, decoded and quoted again for shlex."""

    def escape(found: re.Match[str]) -> str:
        code = found.group(1)
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
        return _ANSI_ESCAPES.get(code, "\\" + code)

    text = re.sub(
        r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|.)", escape, match.group(1)
    )
    return shlex.quote(text)


def split_commands(text: str) -> list[str]:
    """The curl commands of a text: continuations joined, one command per line that starts with curl;
    blank lines and # comments between them ignored."""
    if len(text) > MAX_CURL_TEXT:
        raise ImportRefused(f"the curl text is {len(text):,} characters; at most {MAX_CURL_TEXT:,} are read")
    if "\x00" in text:
        raise ImportRefused("the curl text contains a NUL character")
    joined = re.sub(r"[ \t]*\\\r?\n", " ", text).replace("\r\n", "\n")
    commands: list[str] = []
    for line in joined.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("$ "):
            stripped = stripped[2:].lstrip()
        if re.match(r"curl(\.exe)?(\s|$)", stripped):
            commands.append(stripped)
        elif commands:
            commands[-1] += "\n" + line  # a quoted value spanning lines
        else:
            raise ImportRefused(f"not a curl command: {stripped[:80]!r}")
    if not commands:
        raise ImportRefused("no curl command found")
    if len(commands) > MAX_COMMANDS:
        raise ImportRefused(f"{len(commands):,} curl commands; at most {MAX_COMMANDS:,} are imported at once")
    return commands


def _words(command: str) -> list[str]:
    try:
        return shlex.split(_ANSI_C.sub(_ansi_c, command))
    except ValueError as error:
        raise ImportRefused(f"cannot read the command line ({error}): {command[:80]!r}") from None


def _options(words: list[str]) -> list[tuple[str, str | None]]:
    """(option, value) pairs; positional words come as ("url", word)."""
    pairs: list[tuple[str, str | None]] = []
    index = 1
    while index < len(words):
        word = words[index]
        index += 1
        if word in _WITH_VALUE or word in _FLAGS or word in _IGNORED_FLAGS:
            option = word
        elif re.fullmatch(r"-[A-Za-z0-9#]{2,}", word):  # -sSL, -XPOST, -HAccept:x
            first = word[1]
            if first in _SHORT_WITH_VALUE:
                pairs.append((f"-{first}", word[2:]))
                continue
            for letter in word[1:]:
                if letter in _SHORT_WITH_VALUE:
                    raise ImportRefused(f"-{letter} needs a value, not as part of {word}")
                if letter not in _SHORT_FLAGS:
                    raise ImportRefused(f"unknown curl option -{letter} (in {word})")
                pairs.append((f"-{letter}", None))
            continue
        elif word.startswith("-") and word != "-":
            raise ImportRefused(f"unknown curl option {word}")
        else:
            pairs.append(("--url", word))
            continue
        if option in _WITH_VALUE:
            if index >= len(words):
                raise ImportRefused(f"{option} needs a value")
            pairs.append((option, words[index]))
            index += 1
        else:
            pairs.append((option, None))
    return pairs


def _with_query(url: str, data: list[str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, *data]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _urlencoded(item: str) -> str:
    """One --data-urlencode item as curl sends it: ``name=value`` with only the value encoded."""
    if item.startswith("@") or "@" in item.split("=", 1)[0]:
        raise ImportRefused("--data-urlencode reading a file (@file) cannot be imported")
    name, equals, value = item.partition("=")
    return f"{name}={quote_plus(value)}" if equals else quote_plus(item)


def parse_command(command: str, uploads: UploadFolder | None = None) -> ImportedRequest:
    """The request of one curl command; ``uploads``: where ``-F name=@file`` is read (none: refused)."""
    words = _words(command)
    if not words or not re.fullmatch(r"curl(\.exe)?", words[0]):
        raise ImportRefused(f"not a curl command: {command[:80]!r}")
    method: str | None = None
    urls: list[str] = []
    headers: list[tuple[str, str]] = []
    data: list[str] = []
    multipart: dict[str, str | dict[str, str]] = {}
    get = head = follow = False
    json_mode = False
    timeout_ms: int | None = None
    for option, value in _options(words):
        kind = _WITH_VALUE.get(option) or _FLAGS.get(option)
        if kind == "method" and value is not None:
            method = value.upper()
        elif kind == "url" and value is not None:
            urls.append(value)
        elif kind == "header" and value is not None:
            name, colon, text = value.partition(":")
            if not colon and value.endswith(";"):
                name, text = value[:-1], ""  # curl's "Name;" sends an empty header
            elif not colon:
                raise ImportRefused(f"a header is 'Name: value', got {value[:80]!r}")
            if text.strip() or not colon:
                headers.append((name.strip(), text.strip()))
        elif kind in ("data", "data-raw", "json") and value is not None:
            if value.startswith("@") and kind != "data-raw":
                raise ImportRefused(f"{option} {value[:40]} reads a file; paste the body itself")
            data.append(value)
            json_mode = json_mode or kind == "json"
        elif kind == "data-urlencode" and value is not None:
            data.append(_urlencoded(value))
        elif kind == "user" and value is not None:
            token = base64.b64encode(value.encode()).decode()
            headers.append(("Authorization", f"Basic {token}"))
        elif kind == "cookie" and value is not None:
            if "=" not in value:
                raise ImportRefused(f"-b {value[:40]} reads a cookie file; paste the cookies as name=value")
            headers.append(("Cookie", value))
        elif kind == "agent" and value is not None:
            headers.append(("User-Agent", value))
        elif kind == "referer" and value is not None:
            headers.append(("Referer", value))
        elif kind == "max-time" and value is not None:
            try:
                seconds = float(value)
            except ValueError:
                raise ImportRefused(f"--max-time expects seconds, got {value[:40]!r}") from None
            timeout_ms = max(1, min(600_000, round(seconds * 1000)))
        elif kind == "form" and value is not None:
            name, part = form_part(option, value, uploads)
            if name in multipart:
                raise ImportRefused(
                    f"{option} {name[:80]} is given twice; a multipart body sends each name once"
                )
            multipart[name] = part
        elif kind == "upload":
            raise ImportRefused(f"{option} (a file upload as the body) has no form in the test language")
        elif kind == "get":
            get = True
        elif kind == "head":
            head = True
        elif kind == "location":
            follow = True
    if len(urls) != 1:
        raise ImportRefused(f"a curl command needs exactly one URL, found {len(urls)}: {command[:80]!r}")
    if multipart and (data or get or head):
        raise ImportRefused("-F cannot be combined with -d, --json, -G or -I (curl refuses it too)")
    url = urls[0]
    if "://" not in url:
        url = "http://" + url  # as curl does
    names = {name.lower() for name, _ in headers}
    if json_mode:
        headers += [(n, "application/json") for n in ("Content-Type", "Accept") if n.lower() not in names]
    elif data and not get and "content-type" not in names:
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))  # what curl sends with -d
    body: str | None = None
    if get and data:
        url = _with_query(url, data)
    elif data:
        body = "&".join(data) if not json_mode else "".join(data)
    default = "HEAD" if head else "POST" if body is not None or multipart else "GET"
    content_type = next((text for name, text in headers if name.lower() == "content-type"), None)
    return ImportedRequest(
        method=method or default,
        url=url,
        headers=headers,
        body=body,
        content_type=content_type,
        follow_redirects=follow,
        timeout_ms=timeout_ms,
        multipart=multipart or None,
    )


def parse_curl_text(text: str, uploads: UploadFolder | None = None) -> list[ImportedRequest]:
    return [parse_command(command, uploads) for command in split_commands(text)]
