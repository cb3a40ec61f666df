"""Renderings that only look values up are done on the event loop; every other goes to a template thread."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from orchestra.steps import templating
from orchestra.steps.template_budget import Budget, size_of, spending
from orchestra.steps.template_inline import INLINE_CHARACTERS, INLINE_OPERATIONS, NeedsThread, attempt
from orchestra.steps.templating import TemplateError, build_scope, render_value, sandboxed

THREE_LOOPS = (
    "{% for i in range(20000) %}{% for j in range(20000) %}{% for k in range(20000) %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)


def _rendering_thread(value: Any, scope: dict[str, Any]) -> tuple[Any, str]:
    """What ``sandboxed`` renders ``value`` to, and the name of the thread that finished the rendering."""
    thread: list[str] = []

    def render() -> Any:
        rendered = render_value(value, scope)
        thread.append(threading.current_thread().name)
        return rendered

    result = asyncio.run(sandboxed(render))
    return result, thread[-1]


SCOPE = build_scope(
    base_url="http://sut.test",
    variables={"next": 7, "item": {"id": "a1", "tags": ["x", "y"]}, "key": "id", "name": "ann"},
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ next }}", 7),
        ("{{ env.base_url }}/items/{{ item.id }}", "http://sut.test/items/a1"),
        ("{{ item['id'] }}-{{ item.tags[1] }}-{{ item[key] }}", "a1-y-a1"),
        ("{{- name -}} and {{ 'text' }}", "annand text"),
        ({"url": "{{ env.base_url }}/c", "json": {"value": "{{ next }}"}}, None),
    ],
)
def test_look_ups_are_rendered_on_the_event_loop(template: Any, expected: Any) -> None:
    rendered, thread = _rendering_thread(template, SCOPE)
    assert thread == threading.main_thread().name
    if expected is not None:
        assert rendered == expected
    else:
        assert rendered == {"url": "http://sut.test/c", "json": {"value": 7}}


@pytest.mark.parametrize(
    "template",
    [
        "{{ name|upper }}",
        "{{ next + 1 }}",
        "{{ name[1:] }}",
        "{{ range(3)|list }}",
        "{{ [next] }}",
        "{{ next if name }}",
        "{{ name is defined }}",
        "{% for x in item.tags %}{{ x }}{% endfor %}",
        "{% set x = next %}{{ x }}",
        "{{ name.upper() }}",
        ["{{ next }}", "{{ name|upper }}"],  # one template of the rendering is enough
    ],
)
def test_anything_else_is_rendered_in_a_template_thread(template: Any) -> None:
    rendered, thread = _rendering_thread(template, SCOPE)
    assert thread.startswith("orchestra-template")
    assert rendered == render_value(template, SCOPE)


def test_a_look_up_of_a_large_value_is_rendered_in_a_template_thread() -> None:
    scope = build_scope(
        base_url="http://sut.test",
        variables={"text": "x" * (INLINE_CHARACTERS + 1), "items": list(range(8 * INLINE_OPERATIONS + 8))},
    )
    for template in ("{{ text }}!", "{{ items }}", "{{ env }}{{ items }}"):
        rendered, thread = _rendering_thread(template, scope)
        assert thread.startswith("orchestra-template"), template
        assert rendered == render_value(template, scope)
    rendered, thread = _rendering_thread("{{ text }}", scope)  # the value itself, nothing copied
    assert thread == threading.main_thread().name
    assert rendered is scope["text"]


def test_big_values_and_big_literal_bodies_leave_the_event_loop_before_they_are_walked() -> None:
    """A value written into text is measured, and a literal body walked, under the inline budget as it
    goes: both reach the thread after a few hundred operations, whatever their size."""
    rows = [{"n": n} for n in range(200_000)]
    scope = build_scope(base_url="http://sut.test", variables={"rows": rows})
    for template in ("rows: {{ rows }}", {"json": {"items": list(range(100_000)), "n": "{{ rows[0].n }}"}},
                     [[[[[[[1] * 7] * 7] * 7] * 7] * 7] * 7]):  # fmt: skip
        with pytest.raises(NeedsThread), attempt():
            render_value(template, scope)
    rendered, thread = _rendering_thread({"items": list(range(100_000)), "n": "{{ rows[1].n }}"}, scope)
    assert thread.startswith("orchestra-template")
    assert rendered["n"] == 1
    assert len(rendered["items"]) == 100_000


def test_size_of_charges_its_walk_as_it_goes() -> None:
    charged: list[int] = []

    class Counting(Budget):
        def spend(self, operations: int = 1) -> None:
            charged.append(operations)

    with spending(Counting()):
        assert size_of([[1, "ab"]] * 1000) == 1000 + 1000 * 2 + 1000 * 2
    assert len(charged) > 10
    assert max(charged) < 200


def test_many_look_ups_are_rendered_in_a_template_thread() -> None:
    template = "{{ item.id }}" * INLINE_OPERATIONS
    rendered, thread = _rendering_thread(template, SCOPE)
    assert thread.startswith("orchestra-template")
    assert rendered == "a1" * INLINE_OPERATIONS


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ nothing }}", r"^'nothing' is undefined in \"\{\{ nothing \}\}\"$"),
        ("{{ item.nothing }}", r"^'nothing' is undefined \(available keys: id, tags\) in"),
        ("{{ item.__class__ }}", r"^unsafe operation blocked: access to attribute '__class__'"),
        ("{{ item. }}", r"^syntax error in"),
        ("{{ name|nofilter }}", r"^syntax error in .*nofilter"),
    ],
)
async def test_errors_are_the_same_wherever_it_renders(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as inline:
        await sandboxed(render_value, template, SCOPE)
    with pytest.raises(TemplateError) as threaded:
        await templating.in_sandbox(render_value, template, SCOPE)
    assert str(inline.value) == str(threaded.value)


async def test_a_costly_template_still_does_not_hold_up_the_event_loop() -> None:
    rendering = asyncio.ensure_future(sandboxed(render_value, ["{{ next }}", THREE_LOOPS], SCOPE))
    largest, last = 0.0, time.perf_counter()
    while not rendering.done():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        largest, last = max(largest, now - last), now
    with pytest.raises(TemplateError, match="more than 1000000 operations"):
        await rendering
    assert largest < 0.25
