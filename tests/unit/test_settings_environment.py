"""Settings come from keyword arguments, else from ``ORCHESTRA_*`` environment variables, else defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestra.config import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ORCHESTRA_DATA_DIR", "ORCHESTRA_EXECUTOR_CONCURRENCY", "ORCHESTRA_WEBHOOK_DELIVERY"):
        monkeypatch.delenv(name, raising=False)


def test_a_variable_sets_its_setting_validated_from_its_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRA_DATA_DIR", "/srv/orchestra")
    monkeypatch.setenv("ORCHESTRA_EXECUTOR_CONCURRENCY", "3")
    monkeypatch.setenv("ORCHESTRA_WEBHOOK_DELIVERY", "false")
    settings = Settings()
    assert settings.data_dir == Path("/srv/orchestra")
    assert settings.executor_concurrency == 3
    assert settings.webhook_delivery is False


def test_the_name_of_a_variable_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("orchestra_executor_concurrency", "5")
    assert Settings().executor_concurrency == 5


def test_a_keyword_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRA_EXECUTOR_CONCURRENCY", "3")
    assert Settings(executor_concurrency=7).executor_concurrency == 7


def test_without_a_variable_the_default_holds() -> None:
    assert Settings().data_dir == Path(".orchestra")
    assert Settings().executor_concurrency == 8


def test_unknown_orchestra_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRA_NO_SUCH_SETTING", "1")
    assert Settings().executor_concurrency == 8


@pytest.mark.parametrize(("value", "problem"), [("many", "int_parsing"), ("0", "greater_than_equal")])
def test_a_bad_value_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("ORCHESTRA_EXECUTOR_CONCURRENCY", value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    (error,) = refused.value.errors()
    assert error["loc"] == ("executor_concurrency",)
    assert error["type"] == problem
    assert error["input"] == value
