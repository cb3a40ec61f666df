"""Cron arithmetic: fire times in UTC, daylight saving time, validation, misfire policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.schedules.cron import (
    MAX_CATCH_UP,
    due_fire_times,
    next_fire_times,
    previous_fire_times,
    validate,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def on_local_day(times: list[datetime], timezone: str, day: str) -> list[datetime]:
    zone = ZoneInfo(timezone)
    return [moment for moment in times if moment.astimezone(zone).date().isoformat() == day]


def test_next_times_are_utc_aware_and_strictly_after() -> None:
    times = next_fire_times("*/15 * * * *", "UTC", utc(2026, 1, 1, 10, 15), 3)
    assert times == [utc(2026, 1, 1, 10, 30), utc(2026, 1, 1, 10, 45), utc(2026, 1, 1, 11, 0)]
    assert all(moment.tzinfo is UTC for moment in times)
    assert next_fire_times("*/15 * * * *", "UTC", utc(2026, 1, 1, 10, 14, 59, 999_999), 1) == [
        utc(2026, 1, 1, 10, 15)
    ]
    assert next_fire_times("* * * * *", "UTC", utc(2026, 1, 1), 0) == []


def test_time_zone_and_offset_of_after_are_respected() -> None:
    winter = next_fire_times("0 9 * * *", BERLIN, utc(2026, 1, 10), 1)
    summer = next_fire_times("0 9 * * *", BERLIN, utc(2026, 7, 10), 1)
    assert winter == [utc(2026, 1, 10, 8)]
    assert summer == [utc(2026, 7, 10, 7)]
    after_in_tokyo = datetime(2026, 1, 10, 18, tzinfo=ZoneInfo("Asia/Tokyo"))  # 09:00 UTC
    assert next_fire_times("0 9 * * *", BERLIN, after_in_tokyo, 1) == [utc(2026, 1, 11, 8)]


def test_day_names_macros_and_weekdays() -> None:
    assert next_fire_times("@daily", "UTC", utc(2026, 1, 1, 1), 1) == [utc(2026, 1, 2)]
    assert next_fire_times("@hourly", "UTC", utc(2026, 1, 1, 1, 1), 1) == [utc(2026, 1, 1, 2)]
    # 2026-01-01 is a Thursday
    assert next_fire_times("30 8 * * MON-FRI", "UTC", utc(2026, 1, 2, 9), 2) == [
        utc(2026, 1, 5, 8, 30),
        utc(2026, 1, 6, 8, 30),
    ]
    assert next_fire_times("0  0   29 2 *", "UTC", utc(2026, 1, 1), 1) == [utc(2028, 2, 29)]


def test_spring_forward_a_skipped_time_fires_once_when_the_clock_has_jumped() -> None:
    # 2026-03-29, Europe/Berlin: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
    times = next_fire_times("30 2 * * *", BERLIN, utc(2026, 3, 27, 12), 4)
    assert times == [
        utc(2026, 3, 28, 1, 30),  # 02:30 CET
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST: the first moment after the skipped 02:30
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
        utc(2026, 3, 31, 0, 30),
    ]
    assert len(on_local_day(times, BERLIN, "2026-03-29")) == 1


def test_fall_back_a_repeated_time_fires_once() -> None:
    # 2026-10-25, Europe/Berlin: 03:00 CEST becomes 02:00 CET; 02:00-02:59 happens twice.
    times = next_fire_times("30 2 * * *", BERLIN, utc(2026, 10, 24, 12), 3)
    assert times == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30), utc(2026, 10, 27, 1, 30)]
    # 01:30 that day is not ambiguous in Berlin: once, of course
    times = next_fire_times("30 1 * * *", BERLIN, utc(2026, 10, 24, 12), 2)
    assert on_local_day(times, BERLIN, "2026-10-25") == [utc(2026, 10, 24, 23, 30)]
    # 2026-11-01, America/New_York: 02:00 EDT becomes 01:00 EST; 01:30 happens twice, fires once
    times = next_fire_times("30 1 * * *", NEW_YORK, utc(2026, 10, 31, 12), 3)
    assert times == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30), utc(2026, 11, 3, 6, 30)]


def test_fall_back_a_schedule_that_started_between_the_two_occurrences_waits_for_the_next_day() -> None:
    between = utc(2026, 10, 25, 0, 45)  # 02:45 CEST: 02:30 CET (01:30 UTC) is still to come
    assert next_fire_times("30 2 * * *", BERLIN, between, 1) == [utc(2026, 10, 26, 1, 30)]


def test_hourly_schedules_count_real_hours_across_dst() -> None:
    autumn = next_fire_times("0 * * * *", BERLIN, utc(2026, 10, 24, 20), 30)
    assert len(on_local_day(autumn, BERLIN, "2026-10-25")) == 25  # 02:00 CEST and 02:00 CET
    spring = next_fire_times("0 * * * *", BERLIN, utc(2026, 3, 28, 20), 30)
    assert len(on_local_day(spring, BERLIN, "2026-03-29")) == 23
    every_hour = [b - a for a, b in pairwise(autumn)]
    assert set(every_hour) == {timedelta(hours=1)}


def test_previous_times_agree_with_next_times() -> None:
    for expression, timezone in [("30 2 * * *", BERLIN), ("0 * * * *", BERLIN), ("30 1 * * *", NEW_YORK)]:
        forward = next_fire_times(expression, timezone, utc(2026, 10, 20), 40)
        backward = previous_fire_times(expression, timezone, forward[-1], 40, utc(2026, 1, 1))
        assert backward == forward, expression
    exact = utc(2026, 1, 1, 5)
    assert previous_fire_times("0 * * * *", "UTC", exact, 2, utc(2026, 1, 1)) == [utc(2026, 1, 1, 4), exact]
    assert previous_fire_times("0 * * * *", "UTC", exact, 5, utc(2026, 1, 1, 4, 30)) == [exact]


@pytest.mark.parametrize(
    ("expression", "needle"),
    [
        ("* * * * * *", "got 6; seconds and years are not supported"),
        ("0 0 12 * * ? 2026", "got 7; seconds and years are not supported"),
        ("* * * *", "expected 5 fields"),
        ("", "expected 5 fields"),
        ("61 * * * *", "out of range"),
        ("0 24 * * *", "out of range"),
        ("*/0 * * * *", "step"),
        ("a b c d e", "invalid cron expression 'a b c d e'"),
        ("0 0 31 2 *", "no date matches it"),
        ("H * * * *", "hashed (H) and random (R) values are not supported"),
        ("R 0 * * *", "hashed (H) and random (R) values are not supported"),
        ("@reboot", "expected 5 fields"),
        ("0 0 * * 1;reboot", "unexpected characters in '1;reboot'"),
        ("\x00 * * * *", "unexpected characters in '\\x00'"),
        ("1" * 300, "at most 200 characters"),
    ],
)
def test_invalid_expressions_are_refused_clearly(expression: str, needle: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid cron expression '") as caught:
        validate(expression, "UTC")
    assert needle in str(caught.value)
    assert "\x00" not in str(caught.value)


@pytest.mark.parametrize(
    "timezone",
    ["Europe/Nowhere", "europe/berlin", "", "../../etc/passwd", "/etc/localtime", "localtime", "\x00"],
)
def test_unknown_time_zones_are_refused(timezone: str) -> None:
    with pytest.raises(ValueError, match=r"^unknown time zone '"):
        validate("* * * * *", timezone)


@pytest.mark.parametrize(
    ("expression", "timezone"),
    [
        ("0 9 * * 1-5", BERLIN),
        ("@weekly", "UTC"),
        ("0 0 L * *", "Asia/Kolkata"),
        ("*/5 * * * *", "Etc/GMT+5"),
    ],
)
def test_valid_expressions(expression: str, timezone: str) -> None:
    assert validate(expression, timezone)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_fire_times("* * * * *", "UTC", datetime(2026, 1, 1), 1)


class TestMisfirePolicies:
    """An hourly schedule due at 2026-05-01 11:00 UTC; the platform comes back 3 days later."""

    due = utc(2026, 5, 1, 11)
    back = utc(2026, 5, 4, 10, 30)

    def test_on_time_every_policy_fires_the_due_time(self) -> None:
        for policy in ("latest", "skip", "all"):
            assert due_fire_times("0 * * * *", "UTC", self.due, self.due + timedelta(seconds=1), policy) == [
                self.due
            ]

    def test_not_yet_due(self) -> None:
        assert due_fire_times("0 * * * *", "UTC", self.due, self.due - timedelta(seconds=1), "all") == []

    def test_latest_runs_once_for_the_most_recent_missed_time(self) -> None:
        assert due_fire_times("0 * * * *", "UTC", self.due, self.back, "latest") == [utc(2026, 5, 4, 10)]

    def test_all_runs_the_most_recent_missed_times_capped(self) -> None:
        times = due_fire_times("0 * * * *", "UTC", self.due, self.back, "all")
        assert len(times) == MAX_CATCH_UP == 10
        assert times == [utc(2026, 5, 4, hour) for hour in range(1, 11)]
        few = due_fire_times("0 * * * *", "UTC", self.due, self.due + timedelta(hours=2, minutes=5), "all")
        assert few == [self.due, utc(2026, 5, 1, 12), utc(2026, 5, 1, 13)]

    def test_skip_runs_nothing_missed_by_more_than_the_grace_period(self) -> None:
        assert due_fire_times("0 * * * *", "UTC", self.due, self.back, "skip") == []
        in_grace = utc(2026, 5, 4, 10, 0, 59)
        assert due_fire_times("0 * * * *", "UTC", self.due, in_grace, "skip") == [utc(2026, 5, 4, 10)]
        assert due_fire_times("0 * * * *", "UTC", self.due, self.due + timedelta(seconds=61), "skip") == []


# DST of 30 min (Lord Howe) and of 2 h (Troll), DST at midnight (Santiago, Havana), 45-min offsets (Chatham)
ZONE_NAMES = ["UTC", BERLIN, NEW_YORK, "Australia/Lord_Howe", "Antarctica/Troll", "America/Santiago"]
ZONES = st.sampled_from([*ZONE_NAMES, "America/Havana", "Pacific/Chatham", "Asia/Kolkata"])
EXPRESSIONS = st.sampled_from(
    ["30 2 * * *", "0 * * * *", "*/20 1-3 * * *", "15 0 * * 0", "0 0 1 * *", "*/7 * * * *", "45 1,2 * * *"]
)
STARTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(expression=EXPRESSIONS, timezone=ZONES, start=STARTS, pick=st.integers(0, 28))
def test_fire_times_increase_never_repeat_a_fixed_wall_time_and_do_not_depend_on_the_start(
    expression: str, timezone: str, start: datetime, pick: int
) -> None:
    times = next_fire_times(expression, timezone, start, 30)
    assert len(times) == 30
    assert times[0] > start
    assert all(a < b for a, b in pairwise(times))
    if not expression.split()[1].startswith("*"):
        zone = ZoneInfo(timezone)
        walls = [moment.astimezone(zone).replace(tzinfo=None) for moment in times]
        assert len(set(walls)) == len(walls)
    assert previous_fire_times(expression, timezone, times[-1], 30, times[0]) == times
    # recomputing from any later moment (a fire, or between two) gives the same remaining times
    assert next_fire_times(expression, timezone, times[pick], 29 - pick) == times[pick + 1 :]
    halfway = times[pick] + (times[pick + 1] - times[pick]) / 2
    assert next_fire_times(expression, timezone, halfway, 29 - pick) == times[pick + 1 :]
