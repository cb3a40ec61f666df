from __future__ import annotations

from pathlib import Path

from orchestra.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def settings_table() -> list[str]:
    """The rows of the settings table: from its header to the first line that is not a row (a blank line
    ends a Markdown table; rows after it are shown as plain text)."""
    lines = DOC.read_text().splitlines()
    start = lines.index("| Variable | Default | Meaning |")
    rows: list[str] = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_every_setting_is_documented_in_the_settings_table() -> None:
    documented = {row.split("|")[1].strip() for row in settings_table()}
    missing = [name for name in Settings.model_fields if f"`ORCHESTRA_{name.upper()}`" not in documented]
    assert missing == []
    assert all(row.count("|") >= 4 for row in settings_table())  # three cells each


def test_the_repair_setting_says_both_things_it_bounds() -> None:
    """One setting bounds two loops in two processes: the ai-service's re-asks of a model whose plan fails
    validation, and a run's repairs after the SUT refused a call (4xx). Its description and its row say
    both, so that setting it for one does not change the other by surprise."""
    [row] = [row for row in settings_table() if "`ORCHESTRA_PLANNER_REPAIR_ATTEMPTS`" in row]
    description = Settings.model_fields["planner_repair_attempts"].description or ""
    for text in (row, description):
        assert "ai-service" in text
        assert "validation" in text
        assert "4xx" in text
        assert "per run" in text or "for each run" in text
