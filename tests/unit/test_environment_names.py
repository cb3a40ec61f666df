"""An environment's name is checked as a whole: a trailing newline or other text after a valid prefix is
refused (``re.match`` with ``$`` would let ``"demo\\n"`` through)."""

from __future__ import annotations

import pytest

from orchestra.environments.service import _check_name
from orchestra.errors import InvalidInput


@pytest.mark.parametrize("name", ["demo", "staging eu-1", "v1.2_b", "a" * 200])
def test_valid_names_pass(name: str) -> None:
    _check_name(name)


@pytest.mark.parametrize("name", ["", "demo\n", "demo\nprod", " demo", "-demo", "demo/x", "a" * 201, "d\x00"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid environment name"):
        _check_name(name)
