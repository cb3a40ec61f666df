"""Rows of test data for data-driven runs: a CSV file (a header line names the columns) or a JSON list of
objects. Every row becomes one run of a test case, with the row's values as variables.

Everything is checked before anything runs: size, encoding, shape, column names, the number of rows.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from orchestra.definitions.testcase_model import MAX_PARAMETER_ROWS, RESERVED_NAMES
from orchestra.kit.json_storage import is_identifier

MAX_DATA_FILE_BYTES = 10 * 1024 * 1024
MAX_DATA_ROWS = MAX_PARAMETER_ROWS  # as many runs as a suite run may hold
MAX_DATA_COLUMNS = 200  # as many variables as a run may be given
MAX_LABEL = 80  # characters of a row's values shown in a run's name

Row = dict[str, Any]


class DataFileError(ValueError):
    """The file cannot be used; the message says why (and where) in one line."""


def column_problem(name: Any) -> str | None:
    """Why ``name`` cannot name a variable, or None when it can."""
    if not isinstance(name, str) or not is_identifier(name):
        return f"column {str(name)[:100]!r} is not a variable name (letters, digits and _, not first a digit)"
    if name in RESERVED_NAMES:
        return f"column {name!r} is a reserved name"
    return None


def check_rows(rows: Any) -> list[Row]:
    """``rows`` as a list of rows, or DataFileError: a list of 1..MAX_DATA_ROWS objects whose keys name
    variables."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise DataFileError("the data must be a list of objects, one per run")
    if not rows:
        raise DataFileError("the data has no rows")
    if len(rows) > MAX_DATA_ROWS:
        raise DataFileError(f"the data has {len(rows)} rows, at most {MAX_DATA_ROWS} are allowed")
    for index, row in enumerate(rows, start=1):
        if len(row) > MAX_DATA_COLUMNS:
            raise DataFileError(f"row {index} has {len(row)} columns, at most {MAX_DATA_COLUMNS} are allowed")
        for name in row:
            problem = column_problem(name)
            if problem is not None:
                raise DataFileError(f"row {index}: {problem}")
    return rows


def _csv_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise DataFileError("the CSV file has no header line naming its columns")
        names = [cell.strip() for cell in header]
        for name in names:
            problem = column_problem(name)
            if problem is not None:
                raise DataFileError(f"line 1: {problem}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise DataFileError(f"line 1: column {repeated[0]!r} appears more than once")
        rows: list[Row] = []
        for cells in reader:
            if not cells or cells == [""]:
                continue  # blank line
            if len(cells) != len(names):
                raise DataFileError(
                    f"line {reader.line_num}: {len(cells)} values, the header names {len(names)} columns"
                )
            if len(rows) == MAX_DATA_ROWS:
                raise DataFileError(f"the data has more than {MAX_DATA_ROWS} rows")
            rows.append(dict(zip(names, cells, strict=True)))
    except csv.Error as error:
        raise DataFileError(f"line {reader.line_num}: not valid CSV: {error}") from None
    return rows


def _reject_constant(name: str) -> Any:
    raise DataFileError(f"{name} is not a JSON value")


def _json_rows(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise DataFileError("not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as error:
        raise DataFileError(
            f"line {error.lineno}, column {error.colno}: not valid JSON: {error.msg}"
        ) from None


def parse_rows(raw: bytes, kind: str) -> list[Row]:
    """The rows of a ``csv`` or ``json`` document."""
    if len(raw) > MAX_DATA_FILE_BYTES:
        raise DataFileError(f"the file is larger than {MAX_DATA_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataFileError(f"the file is not valid UTF-8 (byte {error.start})") from None
    if "\x00" in text:
        raise DataFileError("the file holds a NUL character: not a text file")
    rows = _csv_rows(text) if kind == "csv" else _json_rows(text)
    return check_rows(rows)


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise DataFileError(f"a data file ends in .csv or .json, not {suffix or '(nothing)'!r}")
    return suffix[1:]


def load_rows(path: Path) -> list[Row]:
    """The rows of a ``.csv`` or ``.json`` file; DataFileError names the file's problem."""
    kind = file_kind(path)
    try:
        if not path.is_file():
            raise DataFileError("no such file")
        if path.stat().st_size > MAX_DATA_FILE_BYTES:
            raise DataFileError(f"the file is larger than {MAX_DATA_FILE_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except OSError as error:
        raise DataFileError(error.strerror or str(error)) from None
    return parse_rows(raw, kind)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def row_label(row: Row) -> str:
    """The row as a run shows it in its name: ``user=a, pw=x`` (cut to MAX_LABEL characters)."""
    text = ", ".join(f"{name}={_shown(value)}" for name, value in row.items())
    text = " ".join(text.split())  # one line
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def run_name(name: str, row: Row, limit: int = 200) -> str:
    """``login [user=a]``: the test case's name and its row, within ``limit`` characters."""
    label = f" [{row_label(row)}]"
    return name[: max(1, limit - len(label))] + label
