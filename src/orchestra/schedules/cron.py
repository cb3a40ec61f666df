"""Cron arithmetic, pure: fire times of a standard 5-field cron expression in an IANA time zone, in UTC.

Daylight saving time, by the rules of cron itself:
- a local time that does not exist (skipped when the clocks go forward) fires once, at the first moment that
  exists after it (02:30 on the spring-forward day in Europe/Berlin fires at 03:00 CEST);
- a local time that occurs twice (when the clocks go back) fires once, at its first occurrence, unless the
  hour field starts with ``*`` ("every hour", "every 2 hours"): such a schedule counts real hours and fires
  in both the first and the repeated hour.

No function here reads a clock: callers pass the time (``after``, ``now``), so tests can choose it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

MisfirePolicy = Literal["latest", "skip", "all"]
MISFIRE_GRACE = timedelta(seconds=60)  # "skip": a time missed by at most this much still runs
MAX_CATCH_UP = 10  # "all": at most this many missed times run (the most recent ones)

FIELDS = "minute hour day-of-month month day-of-week"
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELD = re.compile(r"[0-9A-Za-z*/,?#-]+")
_NAMES = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat", re.I)
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*")
_HOST_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # depend on the host, or mean nothing
_MAX_EXPRESSION = 200


def _field_pattern(value: str) -> str:
    step = "(/[1-9][0-9]?)?"
    item = f"(\\*{step}|{value}(-{value})?{step})"
    return f"{item}(,{item})*"


# The expressions `validate` accepts, as far as a pattern can say it: a macro, or five fields of values in
# their ranges (names in lower case), ranges, lists and steps. Declared in the API's schema.
CRON_PATTERN = (
    "^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|"
    + " ".join(
        _field_pattern(value)
        for value in (
            "([0-5]?[0-9])",
            "([01]?[0-9]|2[0-3])",
            "(0?[1-9]|[12][0-9]|3[01])",
            "(0?[1-9]|1[0-2]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
            "([0-7]|sun|mon|tue|wed|thu|fri|sat)",
        )
    )
    + ")$"
)


@lru_cache(maxsize=1)
def known_zones() -> list[str]:
    """Every IANA time zone name `zone` accepts on any machine: those of the tzdata package (which
    zoneinfo falls back to where the system has none)."""
    names = (resources.files("tzdata") / "zones").read_text().split()
    return sorted(name for name in names if _ZONE.fullmatch(name) and _usable(name))


def _usable(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def _quote(value: str, limit: int = 100) -> str:
    """``value`` for an error message: control characters escaped, long values cut."""
    shown = value if len(value) <= limit else value[:limit] + "…"
    if shown.isprintable():
        return shown
    return shown.encode("unicode_escape").decode("ascii")


def zone(timezone: str) -> ZoneInfo:
    """The IANA time zone ``timezone`` (e.g. "Europe/Berlin", "UTC"); ValueError when there is none."""
    if len(timezone) <= 64 and _ZONE.fullmatch(timezone) and timezone not in _HOST_ZONES:
        if not timezone.startswith(("posix/", "right/")):
            try:
                return ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                pass
    raise ValueError(
        f"unknown time zone '{_quote(timezone)}': use an IANA name such as 'Europe/Berlin' or 'UTC'"
    )


def normalise(cron: str) -> str:
    """The expression with single spaces and macros (``@daily`` …) spelt out; ValueError when it is not a
    standard 5-field expression."""
    fields = cron.split()
    if len(fields) == 1 and fields[0].lower() in MACROS:
        return MACROS[fields[0].lower()]
    if len(fields) != 5:
        raise ValueError(
            f"invalid cron expression '{_quote(cron)}': expected 5 fields ({FIELDS}), got {len(fields)}"
            + ("; seconds and years are not supported" if len(fields) in (6, 7) else "")
        )
    for field in fields:
        if not _FIELD.fullmatch(field):
            raise ValueError(
                f"invalid cron expression '{_quote(cron)}': unexpected characters in '{_quote(field)}'"
            )
    return " ".join(fields)


def _reason(error: Exception, expression: str) -> str:
    """croniter's message without the expression it repeats."""
    text = re.sub(re.escape(f"[{expression}]"), "", str(error), flags=re.IGNORECASE)
    text = re.sub(re.escape(expression), "", text, flags=re.IGNORECASE)
    text = re.sub(r"^\s*(is\s+)?(not acceptable[.,]?\s*)?", "", text).strip(" .,")
    return _quote(text) or "a field holds an unknown name or a value out of range"


@lru_cache(maxsize=1024)
def _checked(cron: str) -> str:
    expression = normalise(cron)
    prefix = f"invalid cron expression '{_quote(cron)}'"
    for field in expression.split():
        if re.search(r"[HhRr]", _NAMES.sub("", field)):
            raise ValueError(f"{prefix}: hashed (H) and random (R) values are not supported")
    try:
        iterator = croniter(expression, datetime(2000, 1, 1, tzinfo=UTC))
        iterator.get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(f"{prefix}: no date matches it (e.g. February 30)") from None
    except (CroniterError, ValueError, TypeError, KeyError, IndexError) as error:
        raise ValueError(f"{prefix}: {_reason(error, expression)}") from None
    if len(iterator.expanded) != 5:
        raise ValueError(f"{prefix}: expected 5 fields ({FIELDS})")
    return expression


def validate(cron: str, timezone: str) -> str:
    """Raise ValueError with a clear message when ``cron`` or ``timezone`` is not usable; return the
    normalised expression."""
    if len(cron) > _MAX_EXPRESSION:
        raise ValueError(f"invalid cron expression '{_quote(cron)}': at most {_MAX_EXPRESSION} characters")
    expression = _checked(cron)
    zone(timezone)
    return expression


def _repeats_hours(expression: str) -> bool:
    """Whether the hour field counts real hours ("*", "*/2"): then a repeated local hour fires again."""
    return expression.split()[1].startswith("*")


def _second_occurrence(moment: datetime, tz: ZoneInfo) -> bool:
    """Whether ``moment`` (UTC) is, in ``tz``, a wall-clock time already seen an hour (or so) earlier."""
    local = moment.astimezone(tz)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def _walk(cron: str, timezone: str, start: datetime) -> Iterator[datetime]:
    """Fire times in UTC after ``start``, by the DST rules above. Only ever forwards: croniter's backward
    iteration does not visit the same times around a DST change, and the forward walk is the definition."""
    expression = validate(cron, timezone)
    tz = zone(timezone)
    repeats = _repeats_hours(expression)
    iterator = croniter(expression, start.astimezone(tz))
    while True:
        try:
            found = iterator.get_next(datetime)
        except CroniterBadDateError:
            return
        moment = found.astimezone(UTC)
        if repeats or not _second_occurrence(moment, tz):
            yield moment


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time zone-aware datetime is required")
    return value.astimezone(UTC)


def next_fire_times(cron: str, timezone: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after``, in UTC (aware)."""
    after = _aware(after)
    times: list[datetime] = []
    if count <= 0:
        return times
    for moment in _walk(cron, timezone, after):
        if moment > after:
            times.append(moment)
            if len(times) == count:
                break
    return times


def _between(cron: str, timezone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [``start``, ``end``]."""
    times: list[datetime] = []
    for moment in _walk(cron, timezone, start - timedelta(milliseconds=1)):
        if moment > end:
            break
        if moment >= start:
            times.append(moment)
    return times


def previous_fire_times(
    cron: str, timezone: str, at_or_before: datetime, count: int, not_before: datetime
) -> list[datetime]:
    """Up to ``count`` fire times in [``not_before``, ``at_or_before``]: the most recent, oldest first.

    Walks forwards through a window ending at ``at_or_before`` that doubles until it holds ``count`` times
    (or reaches ``not_before``), so a long outage of a frequent schedule costs little."""
    at_or_before, not_before = _aware(at_or_before), _aware(not_before)
    if count <= 0 or not_before > at_or_before:
        return []
    window = timedelta(hours=1)
    while True:
        start = max(not_before, at_or_before - window)
        times = _between(cron, timezone, start, at_or_before)
        if len(times) >= count or start == not_before:
            return times[-count:]
        window *= 2


def due_fire_times(
    cron: str, timezone: str, next_fire_at: datetime, now: datetime, policy: MisfirePolicy
) -> list[datetime]:
    """The fire times a pass at ``now`` runs for a schedule due since ``next_fire_at``, oldest first.

    "latest": only the most recent time that has come (older missed ones are skipped);
    "skip": only times missed by at most MISFIRE_GRACE (none after a longer outage);
    "all": every missed time, but at most the MAX_CATCH_UP most recent."""
    now, next_fire_at = _aware(now), _aware(next_fire_at)
    if next_fire_at > now:
        return []
    if policy == "latest":
        return previous_fire_times(cron, timezone, now, 1, next_fire_at)
    if policy == "skip":
        return previous_fire_times(cron, timezone, now, MAX_CATCH_UP, max(next_fire_at, now - MISFIRE_GRACE))
    return previous_fire_times(cron, timezone, now, MAX_CATCH_UP, next_fire_at)
