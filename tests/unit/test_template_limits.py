"""A template cannot spend more than its budget, build large values, or hold up the event loop."""

from __future__ import annotations

import asyncio
import re
import time
import tracemalloc
from typing import Any

import pytest

from orchestra.steps import template_budget, templating
from orchestra.steps.template_budget import MAX_OPERATIONS, MAX_VALUE_SIZE
from orchestra.steps.templating import TemplateError, in_sandbox, render_text, render_value

TWO_LOOPS = "{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}"
THREE_LOOPS = (
    "{% for i in range(20000) %}{% for j in range(20000) %}{% for k in range(20000) %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)


def render_error(template: str, scope: dict[str, Any] | None = None) -> str:
    with pytest.raises(TemplateError) as caught:
        render_value(template, scope or {})
    return str(caught.value)


# --- the operation budget --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        TWO_LOOPS,
        THREE_LOOPS,
        "{% for i in range(100000) %}{% for x in items %}{{ x.a }}{% endfor %}{% endfor %}",
        "{% macro f() %}{% for i in range(1000) %}{{ i }}{% endfor %}{% endmacro %}"
        "{% for i in range(100000) %}{{ f()|length }}{% endfor %}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ loop.index }}{% endfor %}{% endfor %}",
    ],
)
def test_loops_stop_once_the_operation_budget_is_spent(template: str) -> None:
    # The message says the operation count stopped it (not the time limit): no wall-clock bound needed,
    # which a busy machine would break.
    message = render_error(template, {"items": [{"a": 1}] * 100})
    assert message.startswith(f"template stopped: the template used more than {MAX_OPERATIONS} operations")


def test_a_rendering_stops_at_its_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(template_budget.Budget.__init__, "__defaults__", (10**12, 0.2))
    started = time.perf_counter()
    assert render_error(THREE_LOOPS).startswith("template stopped: the template ran longer than 0.2 s")
    assert time.perf_counter() - started < 30  # stopped, not run to its end (which takes hours)


def test_ordinary_templates_stay_well_within_the_budget() -> None:
    items = [{"id": i, "name": f"item {i}"} for i in range(5000)]
    template = "{% for item in items %}{{ item.id }}:{{ item.name|upper }};{% endfor %}"
    text = render_text(template, {"items": items})
    assert text.startswith("0:ITEM 0;1:ITEM 1;")
    assert render_value("{{ items|map(attribute='id')|sum }}", {"items": items}) == sum(range(5000))


def test_each_rendering_outside_a_sandbox_call_has_its_own_budget() -> None:
    template = "{% for i in range(60000) %}{% for j in range(10) %}{% endfor %}{% endfor %}"
    for _ in range(3):  # 660,000 operations each: together more than one budget
        assert render_text(template, {}) == ""


# --- the size of every value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ range(300)|join('x' * 999999) }}", "the filter 'join' would build a value larger than"),
        ("{{ ('x' * 999999).join(range(300)|map('string')) }}", "join() would build a value larger than"),
        ("{{ ['x' * 999999] * 300 }}", "'*' would build a value larger than"),
        ("{{ [['x' * 999999] * 4] * 4 }}", "'*' would build a value larger than"),
        ("{{ 'x'|center(1000000000) }}", "the filter 'center' would build a value larger than"),
        ("{{ 'x'.rjust(10**9) }}", "rjust() would build a value larger than"),
        ("{{ 'x\ty'.expandtabs(10**9) }}", "expandtabs() would build a value larger than"),
        ("{{ ('x' * 9999).replace('', 'y' * 9999) }}", "replace() would build a value larger than"),
        ("{{ ('x' * 9999)|replace('x', 'y' * 9999) }}", "the filter 'replace' would build a value"),
        ("{{ ('x\n' * 999999)|indent('y' * 100) }}", "the filter 'indent' would build a value larger than"),
        ("{{ '%999999999d' % 1 }}", "'%' formatting would build a value larger than"),
        ("{{ '%*d' % (10**9, 1) }}", "'%' with a width of more than"),
        ("{{ '%999999999d'|format(1) }}", "'%' formatting would build a value larger than"),
        ("{{ '{:>999999999}'.format(1) }}", "format() would build a value larger than"),
        ("{{ '{:>{}}'.format(1, 10**9) }}", "format() with a width of more than"),
        ("{{ (1).to_bytes(10**9, 'big') }}", "to_bytes() would build a value larger than"),
        ("{{ ((2**1000)**1000)**1000 }}", "'**' would build an integer of more than 65536 bits"),
        ("{{ [1]|batch(10**9, 'x')|list }}", "the filter 'batch' would build a value larger than"),
        ("{{ [1]|slice(10**9)|list }}", "the filter 'slice' would build a value larger than"),
        (
            "{% set row = [1] * 999999 %}{{ [row, row, row, row, row]|sum(start=[]) }}",
            "a literal would be larger than",
        ),
        ("{% set s = 'x' * 999999 %}{{ {'a': s, 'b': s, 'c': s, 'd': s, 'e': s}|tojson }}", "a literal"),
        ("{{ lipsum(10**6) }}", "lipsum() makes at most 100 paragraphs"),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "'~' would build a value larger than",
        ),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
            "'+' would be longer than",
        ),
        ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "the template would write more than"),
        ("{% for i in range(100000) %}" + "x" * 100 + "{% endfor %}", "the template would write more than"),
        (
            "{% set big %}{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}{% endset %}",
            "the template would write more than",
        ),
    ],
)
def test_no_value_larger_than_the_limit_is_built(template: str, reason: str) -> None:
    message = render_error(template)
    assert message.startswith(f"unsafe operation blocked: {reason}"), message


@pytest.mark.parametrize(
    "kept",
    [
        "{% set a{i} = s ~ s[:{i}] %}",  # new strings of 4 MB each, all kept
        "{% set a{i} = s[{i}:] %}",
        "{% set a{i} = s|replace('x', 'y') %}",
        "{% set a{i} = s.upper() %}",
    ],
)
def test_what_a_rendering_builds_in_all_is_bounded(kept: str) -> None:
    source = "{% set s = 'x' * 4000000 %}" + "".join(kept.replace("{i}", str(i)) for i in range(60))
    tracemalloc.start()
    try:
        message = render_error(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.startswith(
        "unsafe operation blocked: the template would build more than 33554432 characters and items in all"
    )
    assert peak < 64 * 2**20  # 60 strings of 4 MB would be 240 MB


def test_a_list_doubled_in_a_loop_is_stopped() -> None:
    message = render_error(
        "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"
    )
    assert re.search("'\\+' would be larger than|more than 1000000 operations", message), message


def test_the_join_attack_is_refused_before_it_takes_memory() -> None:
    tracemalloc.start()
    try:
        render_error("{{ range(300)|join('x' * 999999) }}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20  # the 300 MB string was never built


def test_values_up_to_the_limit_are_allowed() -> None:
    big = "x" * (MAX_VALUE_SIZE // 2)
    assert render_text("{{ big }}{{ big }}", {"big": big}) == big * 2
    assert render_value("{{ (big ~ big)|length }}", {"big": big}) == MAX_VALUE_SIZE
    assert render_value("{{ 'ab' * 3 }}", {}) == "ababab"
    assert render_value("{{ '%05d'|format(42) }}", {}) == "00042"
    assert render_value("{{ '{:>6}'.format('ab') }}", {}) == "    ab"
    assert render_value("{{ [1, 2]|join(', ') }}", {}) == "1, 2"
    assert render_value("{{ 2 ** 64 }}", {}) == 2**64


# --- off the event loop, with a hard stop ---------------------------------------------------------------


async def _largest_loop_gap(work: asyncio.Future[Any]) -> float:
    """The longest the event loop went without running this ticker while ``work`` was pending."""
    largest, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        largest, last = max(largest, now - last), now
    return largest


async def test_a_costly_template_does_not_hold_up_the_event_loop() -> None:
    rendering = asyncio.ensure_future(in_sandbox(render_value, THREE_LOOPS, {}))
    gap = await _largest_loop_gap(rendering)
    with pytest.raises(TemplateError, match="more than 1000000 operations"):
        await rendering
    assert gap < 0.25  # rendered on the loop, the whole ~0.6 s of work would be one gap (a busy machine adds)


async def test_a_cancelled_rendering_stops_its_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    budgets: list[template_budget.Budget] = []
    monkeypatch.setattr(template_budget.Budget.__init__, "__defaults__", (10**12, 60.0))

    def render_and_keep_budget() -> Any:
        budgets.append(template_budget.current())
        return render_value(THREE_LOOPS, {})

    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await in_sandbox(render_and_keep_budget)
    assert time.perf_counter() - started < 1  # the run's time limit is honoured at once
    assert budgets[0].stopped is not None
    await asyncio.sleep(0.1)  # the thread gives up at its next check of the clock
    operations = budgets[0].operations
    await asyncio.sleep(0.1)
    assert budgets[0].operations == operations


async def test_the_sandbox_returns_what_the_work_returns() -> None:
    assert await in_sandbox(render_value, {"a": "{{ 1 + 1 }}", "b": ["{{ x }}"]}, {"x": "y"}) == {
        "a": 2,
        "b": ["y"],
    }


async def test_a_rendering_stuck_outside_the_budget_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templating, "HARD_STOP_S", 0.3)
    started = time.perf_counter()
    with pytest.raises(TemplateError, match=r"^template stopped: it did not finish within 0\.3 s$"):
        await in_sandbox(time.sleep, 2)  # one long operation that never reaches a check of the budget
    assert time.perf_counter() - started < 1.5
