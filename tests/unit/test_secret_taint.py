"""Values a template derives from a secret in ways no decoding undoes are reported and masked too."""

from __future__ import annotations

import uuid

import pytest

from orchestra.executor.context_sealing import ContextSealing
from orchestra.kit.masking import MASK, Masker
from orchestra.kit.secret_box import SecretBox, new_key
from orchestra.steps.secret_taint import tracking
from orchestra.steps.templating import build_scope, render_text, render_value

SECRET = 'Pa$$ w0rd/"q"&<x>+=Zz'
SCOPE = build_scope(
    base_url="http://sut.test", secrets={"s": SECRET, "short": "ab"}, variables={"v": "public"}
)


def derived(template: str) -> tuple[str, list[str]]:
    reported: list[str] = []
    with tracking([SECRET, "ab"], reported.append):
        output = render_text(template, SCOPE)
    return output, reported


@pytest.mark.parametrize(
    ("template", "made"),
    [
        ("{{ secrets.s | replace('$', 'S') }}", SECRET.replace("$", "S")),
        ("{{ secrets.s | reverse }}", SECRET[::-1]),
        ("{{ secrets.s | replace(' ', '_') | reverse }}", SECRET.replace(" ", "_")[::-1]),
        ("{{ ('user:' ~ secrets.s) | b64encode }}", None),
        ("{{ secrets.s.replace('w0rd', 'word') }}", SECRET.replace("w0rd", "word")),
        ("{{ secrets.s[4:] }}", SECRET[4:]),
        ("{{ secrets.s.split('&')[1] }}", SECRET.split("&")[1]),
        ("{{ secrets.s | truncate(9, true, '') }}", None),
    ],
)
def test_what_a_template_makes_of_a_secret_is_reported_and_masked(template: str, made: str | None) -> None:
    output, reported = derived(f"[{template}]")
    if made is not None:
        assert output == f"[{made}]"
    assert reported
    masker = Masker([SECRET])
    for value in reported:
        masker.learn(value)
    assert masker.text(f"sent {output} and echoed {output.upper()}") == f"sent [{MASK}] and echoed [{MASK}]"


@pytest.mark.parametrize(
    "template",
    [
        "{{ secrets.s | length }}",
        "{{ 'yes' if secrets.s else 'no' }}",
        "{{ secrets.s == 'x' }}",
        "{{ v | upper }}",
        "{{ v.replace('p', 'P') }}",
        "{{ secrets.s[0] }}",  # one character: shorter than any masked value
        "{{ (v ~ 'ab') | upper }}",  # holds the too-short secret "ab": not a secret's text
    ],
)
def test_what_does_not_carry_a_secrets_text_is_not_reported(template: str) -> None:
    _, reported = derived(template)
    assert reported == []


def test_nothing_is_tracked_outside_a_run_and_rendered_secrets_are_plain_strings() -> None:
    assert render_text("{{ secrets.s | reverse }}", SCOPE) == SECRET[::-1]
    value = render_value("{{ secrets.s }}", SCOPE)
    assert type(value) is str
    assert value == SECRET


def test_a_learned_value_is_masked_whole_but_not_cut_into_pieces() -> None:
    masker = Masker([SECRET])
    masker.learn("Xy7#kk99&public-part")
    assert masker.text("Xy7#kk99&public-part") == MASK
    assert masker.text("xy7%23kk99%26public-part") == MASK
    assert masker.text("public-part") == "public-part"
    masker.learn("ab")  # shorter than the minimum: never masked
    assert masker.text("ab") == "ab"


def test_a_resumed_run_masks_what_it_derived_before() -> None:
    box, tenant, run = SecretBox(new_key()), uuid.uuid4(), uuid.uuid4()
    first = ContextSealing(Masker([SECRET]), box, tenant, run)
    first.masker.learn("dr0w-reversed-value")
    stored = first.stored(
        {"vars": {"derived": "dr0w-reversed-value", "plain": "kept"}, "data": {}}, final=False
    )
    assert stored["vars"] == {"derived": MASK, "plain": "kept"}
    resumed = ContextSealing(Masker([SECRET]), box, tenant, run)
    assert resumed.unseal(stored, "vars") == {"derived": "dr0w-reversed-value"}
    assert resumed.masker.text("echo dr0w-reversed-value") == f"echo {MASK}"
