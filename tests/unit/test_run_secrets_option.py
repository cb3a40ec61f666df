"""`orchestra run --secret`: NAME=VALUE, or NAME with the value from the environment; refusals never quote a
value."""

from __future__ import annotations

import pytest

from orchestra.cli.runner import parse_secrets
from orchestra.cli.usage import UsageError


def test_values_come_from_the_option_or_from_the_environment() -> None:
    environ = {"password": "from-env", "unused": "x"}
    secrets = parse_secrets(["username=demo", "password", "token=a=b="], environ)
    assert secrets == {"username": "demo", "password": "from-env", "token": "a=b="}


def test_a_later_option_wins_and_an_empty_value_is_a_value() -> None:
    assert parse_secrets(["key=one", "key=two", "blank="], {}) == {"key": "two", "blank": ""}


@pytest.mark.parametrize(
    ("items", "said"),
    [
        (["1st=x"], "NAME an identifier"),
        (["=x"], "NAME an identifier"),
        (["with space=x"], "NAME an identifier"),
        (["missing"], "the environment variable missing is not set"),
        (["big=" + "s3cr3t" * 2000], "at most 10000 characters"),
        (["nul=s3cr3t\x00"], "NUL"),
        ([f"k{n}=s3cr3t" for n in range(201)], "at most 200 secrets"),
    ],
)
def test_bad_secrets_are_refused_without_quoting_a_value(items: list[str], said: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_secrets(items, {})
    assert said in str(refused.value)
    assert "s3cr3t" not in str(refused.value)
