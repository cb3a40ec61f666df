"""Postman test scripts whose every statement is a plain assertion, written as ``expect`` and ``capture``.

Understood, inside ``pm.test("name", function () { … })`` (or an arrow function) or as a legacy
``tests["name"] = …`` line:

- the status: ``pm.response.to.have.status(200)``, ``pm.response.to.be.ok``,
  ``pm.expect(pm.response.code).to.eql(200)`` / ``.to.be.oneOf([200, 201])``, ``responseCode.code === 200``;
- a header's presence: ``pm.response.to.have.header("X")``;
- a JSON value, read from ``pm.response.json()`` or a variable holding it (``var data = pm.response.json()``,
  ``JSON.parse(responseBody)``): ``pm.expect(data.a.b).to.eql(1)`` (also ``equal``, ``eq``, ``include``,
  ``exist``, ``be.a("string")``, ``have.lengthOf(n)``, ``be.above(n)``, ``be.below(n)``, ``be.true`` …),
  ``tests["x"] = data.a === 1``; each becomes a named JSON check;
- setting a variable from the body: ``pm.environment.set("id", data.id)`` (also ``collectionVariables``,
  ``globals``, ``variables``, ``postman.setEnvironmentVariable``) becomes a capture.

A script with any other statement is not translated (a translation that drops a statement could pass where
Postman fails): the converter keeps it as JavaScript, to run in the script sandbox.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from orchestra.importers.postman_templates import Names
from orchestra.importers.requests import escape_template

_PATH = r"(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\[(?:'[^'\]]*'|\"[^\"\]]*\")\])*"
_ALIAS_DECLARATION = re.compile(
    r"^(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:pm\.response\.json\(\)|JSON\.parse\(\s*responseBody\s*\))$"
)
_TEST_BLOCK = re.compile(
    r"""^pm\.test\(\s*(?P<q>["'`])(?P<name>(?:(?!(?P=q)).)*)(?P=q)\s*,\s*"""
    r"""(?:function\s*\(\s*\)|\(\s*\)\s*=>)\s*\{(?P<body>.*)\}\s*\)$""",
    re.DOTALL,
)
_LEGACY = re.compile(
    r"""^tests\[\s*(?P<q>["'])(?P<name>(?:(?!(?P=q)).)*)(?P=q)\s*\]\s*=\s*(?P<expr>.+)$""", re.DOTALL
)
_SETTER = re.compile(
    r"""^(?:pm\.(?:environment|collectionVariables|globals|variables)\.set|postman\.set(?:Environment|Global)Variable)"""
    r"""\(\s*(?P<q>["'])(?P<name>[^"']+)(?P=q)\s*,\s*(?P<value>.+)\)$""",
    re.DOTALL,
)
_EXPECT = re.compile(
    r"^pm\.expect\((?P<subject>.+?)\)\.(?P<chain>[A-Za-z.]+?)(?:\((?P<arg>.*)\))?$", re.DOTALL
)
_CHAIN_WORDS = {
    "to",
    "be",
    "been",
    "is",
    "that",
    "which",
    "and",
    "has",
    "have",
    "with",
    "at",
    "of",
    "same",
    "deep",
}


@dataclass
class ScriptChecks:
    """What the translated statements of a step's test scripts add to it."""

    expect: dict[str, Any] = field(default_factory=dict)
    capture: dict[str, str] = field(default_factory=dict)


def _statements(script: str) -> list[str] | None:
    """Top-level statements (split at ``;`` and newlines outside brackets and strings), comments removed."""
    text = re.sub(r"/\*.*?\*/", "", script, flags=re.DOTALL)
    statements: list[str] = []
    current: list[str] = []
    depth = 0
    quote: str | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            current.append(char)
            if char == "\\" and index + 1 < len(text):
                current.append(text[index + 1])
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
            current.append(char)
        elif char == "/" and text[index : index + 2] == "//":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
            continue
        elif char in "([{":
            depth += 1
            current.append(char)
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return None
            current.append(char)
        elif char in ";\n" and depth == 0:
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    if quote or depth:
        return None
    statements.append("".join(current).strip())
    return [statement for statement in statements if statement]


def _literal(text: str) -> tuple[bool, Any]:
    """A JavaScript literal (number, string, boolean, null, array or object of them) as a value."""
    text = text.strip()
    if re.fullmatch(r"'[^'\\\"]*'", text):
        return True, text[1:-1]
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def _json_path(subject: str, aliases: set[str]) -> str | None:
    """The JSONPath of a JavaScript expression reading the response body (``data.items[0].id``)."""
    subject = subject.strip()
    for root in [*aliases, "pm.response.json()", "JSON.parse(responseBody)"]:
        if subject.startswith(root) and re.fullmatch(_PATH, subject[len(root) :]):
            rest = subject[len(root) :]
            return "$" + re.sub(r"\[\"([^\"\]]*)\"\]", r"['\1']", rest)
    return None


class _Translator:
    def __init__(self, names: Names, checks: ScriptChecks) -> None:
        self.names = names
        self.checks = checks
        self.aliases: set[str] = set()

    def status(self, value: Any) -> bool:
        earlier = self.checks.expect.get("status")
        if earlier is not None and earlier != value:
            return False
        self.checks.expect["status"] = value
        return True

    def json_check(self, path: str, name: str, matcher: dict[str, Any]) -> bool:
        checks = self.checks.expect.setdefault("json", [])
        checks.append({"path": path, "name": escape_template(name)[:200] or path, **matcher})
        return True

    def assertion(self, statement: str, name: str) -> bool:
        statement = statement.strip()
        status = re.fullmatch(r"pm\.response\.to\.have\.status\(\s*(\d{3})\s*\)", statement)
        if status:
            return self.status(int(status.group(1)))
        if re.fullmatch(r"pm\.response\.to\.be\.ok", statement):
            return self.status(200)
        if re.fullmatch(r"pm\.response\.to\.be\.success", statement):
            return self.status("2xx")
        header = re.fullmatch(r"""pm\.response\.to\.have\.header\(\s*(["'])([^"']+)\1\s*\)""", statement)
        if header:
            self.checks.expect.setdefault("headers", {})[escape_template(header.group(2))] = {"exists": True}
            return True
        found = _EXPECT.fullmatch(statement)
        if found is None:
            return False
        subject, argument = found.group("subject"), found.group("arg")
        words = [word for word in found.group("chain").split(".") if word not in _CHAIN_WORDS]
        matcher = self.matcher(words, argument)
        if matcher is None:
            return False
        if (
            re.fullmatch(r"pm\.response\.(code|status)", subject.strip())
            or subject.strip() == "responseCode.code"
        ):
            if set(matcher) == {"equals"} and isinstance(matcher["equals"], int):
                return self.status(matcher["equals"])
            if set(matcher) == {"one_of"} and all(isinstance(code, int) for code in matcher["one_of"]):
                return self.status(matcher["one_of"])
            return False
        path = _json_path(subject, self.aliases)
        return path is not None and self.json_check(path, name, matcher)

    def matcher(self, words: list[str], argument: str | None) -> dict[str, Any] | None:
        negated = "not" in words
        words = [word for word in words if word != "not"]
        if len(words) != 1:
            return None
        word = words[0]
        if argument is None:
            plain: dict[str, dict[str, Any]] = {
                "exist": {"exists": not negated},
                "true": {"equals": True},
                "false": {"equals": False},
                "null": {"not_equals" if negated else "equals": None},
                "empty": {"length": 0},
            }
            return plain.get(word) if not negated or word in ("exist", "null") else None
        ok, value = _literal(argument)
        if not ok:
            return None
        if word in ("eql", "equal", "equals", "eq"):
            return {"not_equals" if negated else "equals": value}
        if negated:
            return None
        if word in ("a", "an") and value in ("string", "number", "boolean", "object", "array", "null"):
            return {"type": value}
        if word in ("include", "includes", "contain", "contains", "string"):
            return {"contains": value}
        if word in ("lengthOf", "length") and isinstance(value, int):
            return {"length": value}
        numeric = {
            "above": "gt",
            "greaterThan": "gt",
            "below": "lt",
            "lessThan": "lt",
            "least": "gte",
            "most": "lte",
        }
        if word in numeric and isinstance(value, int | float) and not isinstance(value, bool):
            return {numeric[word]: value}
        if word == "oneOf" and isinstance(value, list) and value:
            return {"one_of": value}
        if word == "match":
            return None
        return None

    def legacy(self, name: str, expression: str) -> bool:
        compared = re.fullmatch(r"(.+?)\s*===?\s*(.+)", expression.strip())
        if compared is None:
            return False
        subject, literal = compared.group(1).strip(), compared.group(2).strip()
        ok, value = _literal(literal)
        if not ok:
            return False
        if subject in ("responseCode.code", "pm.response.code") and isinstance(value, int):
            return self.status(value)
        path = _json_path(subject, self.aliases)
        return path is not None and self.json_check(path, name, {"equals": value})

    def setter(self, name: str, value: str) -> bool:
        path = _json_path(value, self.aliases)
        if path is None or name.startswith("$"):
            return False
        self.checks.capture[self.names.identifier(name)] = path
        return True

    def statement(self, statement: str) -> bool:
        alias = _ALIAS_DECLARATION.fullmatch(statement)
        if alias:
            self.aliases.add(alias.group(1))
            return True
        block = _TEST_BLOCK.fullmatch(statement)
        if block:
            inner = _statements(block.group("body"))
            return inner is not None and all(self.assertion(s, block.group("name")) for s in inner)
        legacy = _LEGACY.fullmatch(statement)
        if legacy:
            return self.legacy(legacy.group("name"), legacy.group("expr"))
        setter = _SETTER.fullmatch(statement)
        if setter:
            return self.setter(setter.group("name"), setter.group("value"))
        return False


def translate_test_script(script: str, names: Names, checks: ScriptChecks) -> bool:
    """Add what ``script`` asserts and captures to ``checks``; False (and nothing added) when a statement
    is not understood."""
    statements = _statements(script)
    if statements is None:
        return False
    trial = ScriptChecks(expect=json.loads(json.dumps(checks.expect)), capture=dict(checks.capture))
    translator = _Translator(names, trial)
    if not all(translator.statement(statement) for statement in statements):
        return False
    checks.expect, checks.capture = trial.expect, trial.capture
    return True
