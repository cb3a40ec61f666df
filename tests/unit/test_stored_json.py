"""The JSON text of a step's records and of the run context: written at once when PostgreSQL's JSONB takes it
as it is, repaired (kit/json_storage.py's jsonb_safe) only when it would not, and the same text either way."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from orchestra.executor.context_sealing import to_json
from orchestra.kit.json_storage import jsonb_safe


def repaired(value: Any) -> str:
    return json.dumps(jsonb_safe(value), default=str, ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [
        {"vars": {"next": 41, "name": "Zoë ✓"}, "halt": None, "loop": {}},
        [1, 2.5, True, None, "text"],
        {"body": 'a "quoted" \\u0000 backslash', "tuple": (1, 2)},
        {1: "an integer key", "k": {"nested": [{"deep": "value"}]}},
        {"NUL": "before\x00after", "key\x00": 1},
        {"surrogate": "lone \ud800 half"},
        {"numbers": [math.nan, math.inf, -math.inf, 1.0]},
        {"object": object.__new__(type("Thing", (), {"__str__": lambda _: "a thing"}))},
        {True: "yes", False: "no", None: "none", 2.5: "a float key"},
        {True: "yes", None: "before\x00after", math.inf: 1},
    ],
    ids=[
        "plain",
        "list",
        "escapes",
        "int-key",
        "nul",
        "surrogate",
        "non-finite",
        "object",
        "scalar-keys",
        "scalar-keys-repaired",
    ],
)
def test_the_text_is_the_repaired_one_whatever_the_value(value: Any) -> None:
    assert to_json(value) == repaired(value)


def test_keys_are_written_alike_with_or_without_the_repair() -> None:
    """A context's keys do not change with a NUL elsewhere in it (``true`` either way, never ``True``)."""
    clean = {True: 1, None: 2, 1.5: 3}
    assert (
        json.loads(to_json({**clean, "x": "a\x00"})).keys() == json.loads(to_json({**clean, "x": "a"})).keys()
    )
    assert set(json.loads(to_json(clean))) == {"true", "null", "1.5"}


def test_what_jsonb_refuses_never_reaches_the_text() -> None:
    text = to_json({"a": "x\x00y", "b": "\udfff", "c": math.nan, "d\x00": [math.inf]})
    assert "\\u0000" not in text
    text.encode("utf-8")  # no lone surrogate
    assert json.loads(text) == {"a": "x\ufffdy", "b": "?", "c": "nan", "d\ufffd": ["inf"]}
