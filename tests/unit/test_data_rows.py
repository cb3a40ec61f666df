"""Rows of data-driven runs: CSV and JSON files, their bounds, and the errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.definitions import data_rows
from orchestra.definitions.data_rows import DataFileError, load_rows, parse_rows, run_name
from orchestra.definitions.loader import DefinitionError, load_paths


def test_csv_rows_are_named_by_the_header_line() -> None:
    raw = b'\xef\xbb\xbfuser,pw\r\na,"x, y"\n\nb,z\n'
    assert parse_rows(raw, "csv") == [{"user": "a", "pw": "x, y"}, {"user": "b", "pw": "z"}]


def test_json_rows_keep_their_types() -> None:
    assert parse_rows(b'[{"n": 1, "ok": true, "tags": ["a"]}]', "json") == [
        {"n": 1, "ok": True, "tags": ["a"]}
    ]


@pytest.mark.parametrize(
    ("raw", "kind", "said"),
    [
        (b"", "csv", "no header line"),
        (b"user,1st\na,b\n", "csv", "column '1st' is not a variable name"),
        (b"user,env\na,b\n", "csv", "column 'env' is a reserved name"),
        (b"user,user\na,b\n", "csv", "column 'user' appears more than once"),
        (b"user,pw\na\n", "csv", "line 2: 1 values, the header names 2 columns"),
        (b"user\n", "csv", "the data has no rows"),
        (b"user\n\xff\n", "csv", "not valid UTF-8"),
        (b"user\na\x00\n", "csv", "NUL"),
        (b'{"user": "a"}', "json", "a list of objects"),
        (b'[{"user": "a"}, 3]', "json", "a list of objects"),
        (b"[]", "json", "the data has no rows"),
        (b'[{"a b": 1}]', "json", "row 1: column 'a b' is not a variable name"),
        (b"[{]", "json", "line 1, column 3: not valid JSON"),
        (b'[{"n": NaN}]', "json", "NaN is not a JSON value"),
        (b"[" * 100_000, "json", "not valid JSON"),
    ],
)
def test_bad_data_is_refused_with_its_reason(raw: bytes, kind: str, said: str) -> None:
    with pytest.raises(DataFileError, match=None) as caught:
        parse_rows(raw, kind)
    assert said in str(caught.value)


def test_too_many_rows_and_too_large_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "user\n" + "a\n" * (data_rows.MAX_DATA_ROWS + 1)
    with pytest.raises(DataFileError, match="more than 5000 rows"):
        parse_rows(rows.encode(), "csv")
    big = tmp_path / "big.csv"
    big.write_bytes(b"user\n" + b"a\n" * 100)
    monkeypatch.setattr(data_rows, "MAX_DATA_FILE_BYTES", 100)
    with pytest.raises(DataFileError, match="larger than"):
        load_rows(big)


def test_missing_files_and_other_suffixes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no such file"):
        load_rows(tmp_path / "absent.csv")
    (tmp_path / "rows.txt").write_text("user\na\n")
    with pytest.raises(DataFileError, match=r"ends in \.csv or \.json"):
        load_rows(tmp_path / "rows.txt")


def test_a_run_is_named_after_its_row_within_the_name_limit() -> None:
    assert run_name("login", {"user": "a", "n": 2}) == "login [user=a, n=2]"
    long = run_name("x" * 300, {"text": "y\n" * 100})
    assert len(long) <= 200
    assert long.startswith("x")
    assert long.endswith("…]")
    assert "\n" not in long


def _test_case(folder: Path, parameters: str) -> Path:
    path = folder / "login.yaml"
    path.write_text(f"name: login\nparameters: {parameters}\nsteps:\n  - request: {{method: GET, url: /x}}\n")
    return path


def test_a_parameters_file_is_read_next_to_the_test_case(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("user,pw\na,x\nb,y\n")
    loaded = load_paths([_test_case(tmp_path, "{file: users.csv}")])
    assert loaded.test_cases[0][1].parameters == [{"user": "a", "pw": "x"}, {"user": "b", "pw": "y"}]


def test_inline_parameters_are_rows(tmp_path: Path) -> None:
    loaded = load_paths([_test_case(tmp_path, "[{user: a, pw: x}]")])
    assert loaded.test_cases[0][1].parameters == [{"user": "a", "pw": "x"}]


@pytest.mark.parametrize(
    ("parameters", "said"),
    [
        ("{file: absent.csv}", "login.yaml:2:20: parameters.file: "),
        ("{file: absent.json}", "absent.json: no such file"),
        ("{file: users.txt}", "parameters.file"),
        ("[{1st: a}]", "not a valid variable name"),
        ("[]", "at least 1 item"),
    ],
)
def test_bad_parameters_are_placed_in_the_test_case_file(tmp_path: Path, parameters: str, said: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_paths([_test_case(tmp_path, parameters)])
    assert said in str(caught.value)


def test_a_bad_parameters_file_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("user,pw\na\n")
    with pytest.raises(DefinitionError) as caught:
        load_paths([_test_case(tmp_path, "{file: users.csv}")])
    assert "users.csv: line 2: 1 values, the header names 2 columns" in str(caught.value)
