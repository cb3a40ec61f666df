"""The masker follows a secret through what a template, httpx and a SUT do to it.

Property-based: secrets full of characters that URL encoding, JSON escaping, HTML escaping and case
folding change (``Pa$$ w0rd/"q"&<x>+=Zz``, ``%``, non-ASCII letters, mixed case) go through each
transformation for real — the project's own sandboxed templates (``| tojson``, ``| urlencode``,
``| lower``, ``| upper``), httpx's URL normalisation (path, query, host name and Host header), a query-string
parser's split at ``&`` and ``=``, JSON inside JSON — and the masker must leave nothing of them.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

import httpx
import idna
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from orchestra.kit.masking import MASK, Masker
from orchestra.kit.secret_forms import MIN_PIECE_LENGTH, pieces, secret_forms
from orchestra.steps.templating import build_scope, render_text

NASTY = 'Pa$$ w0rd/"q"&<x>+=Zz'
# Characters the encodings change, letters whose case matters (also outside ASCII), and "%" (kept by httpx
# before two hex digits, escaped otherwise).
SPECIAL = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
LETTERS = "aAzZ09éÉßüÜøÆŁłΣж\N{GREEK SMALL LETTER SIGMA}"
secret_texts = st.text(alphabet=SPECIAL + LETTERS, min_size=MIN_PIECE_LENGTH, max_size=24).filter(
    lambda text: text.strip() == text and len(set(text)) > 3
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Around the transformed secret: characters no form of a secret in these alphabets can contain.
BEFORE, AFTER = "\x01«", "»\x02"
QUOTES = re.compile(r'(?:"|\\|%22|%5C)*', re.IGNORECASE)


def rendered(template: str, secret: str) -> str:
    return render_text(template, build_scope(base_url="http://sut.test", secrets={"s": secret}))


@pytest.mark.parametrize(
    "transformation",
    [
        "",
        "| lower",
        "| upper",
        "| tojson",
        "| urlencode",
        "| lower | tojson",
        "| upper | urlencode",
        "| tojson | urlencode",
        "| tojson | tojson",
        "| urlencode | tojson",
    ],
)
@PROPERTY
@given(secret=secret_texts)
@example(secret=NASTY)
def test_every_template_transformation_of_a_secret_is_masked_whole(transformation: str, secret: str) -> None:
    output = rendered(f"{BEFORE}{{{{ secrets.s {transformation} }}}}{AFTER}", secret)
    masked = Masker([secret]).text(output)
    assert masked.startswith(BEFORE), output
    assert masked.endswith(AFTER), output
    inner = masked[len(BEFORE) : -len(AFTER)]
    assert inner.count(MASK) == 1, (output, masked)
    assert QUOTES.fullmatch(inner.replace(MASK, "")), (output, masked)  # what tojson puts around a string


@PROPERTY
@given(secret=secret_texts)
@example(secret=NASTY)
def test_a_body_quoted_inside_a_json_response_is_masked(secret: str) -> None:
    body = rendered('{"password": {{ secrets.s | tojson }}}', secret)
    echoed = json.dumps({"body": body, "json": json.loads(body)}, ensure_ascii=False)
    masked = Masker([secret]).text(echoed)
    assert json.loads(masked) == {"body": f'{{"password": "{MASK}"}}', "json": {"password": MASK}}


@PROPERTY
@given(
    secret=secret_texts.filter(
        lambda text: (
            "?" not in text and "#" not in text and not {".", ".."} & set(text.split("/"))
        )  # dot segments: httpx removes them, as it should
    )
)
@example(secret=NASTY)
def test_a_secret_in_a_url_path_or_query_is_masked_as_httpx_sends_it(secret: str) -> None:
    masker = Masker([secret])
    for template in ("http://sut.test/items/{{ secrets.s }}/x", "http://sut.test/x?a=1&q={{ secrets.s }}"):
        url = str(httpx.URL(rendered(template, secret)))
        masked = masker.text(url)
        assert masked == template.replace("{{ secrets.s }}", MASK), url


@PROPERTY
@given(secret=secret_texts)
@example(secret=NASTY)
@example(secret="user=adminX&pw=Xy7#kk99=tail&<x>+=Zzzzzz")
def test_what_a_sut_parses_out_of_a_query_string_is_masked(secret: str) -> None:
    """The SUT splits the query at ``&`` and ``=`` and echoes names and values: every part of the secret
    that is at least MIN_PIECE_LENGTH long is masked, in the URL and in the echo."""
    try:
        url = httpx.URL(rendered("http://sut.test/echo?q={{ secrets.s }}", secret))
    except httpx.InvalidURL:
        assume(False)
        return
    parsed = parse_qsl(url.query.decode(), keep_blank_values=True)
    echo = json.dumps({"url": str(url), "query": dict(parsed), "pairs": parsed}, ensure_ascii=False)
    masked = Masker([secret]).text(echo).casefold()
    for name, value in parsed:
        for part in (name, value):
            if len(part) >= MIN_PIECE_LENGTH and part != "q":
                assert part.casefold() not in masked, (part, masked)
    if "#" not in secret:
        assert json.loads(Masker([secret]).text(echo))["url"] == f"http://sut.test/echo?q={MASK}"


host_labels = st.text(alphabet="abcXYZ0189-éüßжΣ", min_size=4, max_size=20).filter(
    lambda text: not text.startswith("-") and not text.endswith("-")
)


@PROPERTY
@given(label=host_labels, more=st.sampled_from(["", ".Second-Label", ".ZWEITES-Wört"]))
@example(label="MyTenant-Secret", more="")
@example(label="Geheimnis-Überall", more="")
def test_a_secret_in_a_host_name_is_masked_lower_cased_and_idna_encoded(label: str, more: str) -> None:
    secret = label + more
    try:
        idna.encode(secret.lower())
    except (idna.IDNAError, UnicodeError):
        assume(False)
    request = httpx.Request("GET", rendered("http://{{ secrets.s }}.example.com/x", secret))
    masker = Masker([secret])
    assert masker.text(str(request.url)) == f"http://{MASK}.example.com/x", str(request.url)
    assert masker.text(request.headers["host"]) == f"{MASK}.example.com"
    # The way the SUT, a proxy or an error message may write it back.
    assert (
        masker.text(f"Host '{request.url.host.upper()}' not allowed")
        == f"Host '{MASK}.EXAMPLE.COM' not allowed"
    )


def test_pieces_of_a_query_string_are_masked_and_short_ones_left() -> None:
    secret = "user=administrator&pw=Xy7#kk99&<x>+=Zz"
    found = pieces(secret)
    assert {"administrator", "Xy7#kk99", "user=administrator", "pw=Xy7#kk99"} <= found
    assert not {"user", "pw", "Zz", "<x>+"} & found  # shorter than MIN_PIECE_LENGTH: ordinary words
    masked = Masker([secret]).text(json.dumps({"user": "administrator", "pw": "Xy7#kk99", "<x> ": "Zz"}))
    assert masked == json.dumps({"user": MASK, "pw": MASK, "<x> ": "Zz"})


def test_matching_ignores_case_also_where_folding_changes_the_length() -> None:
    assert Masker(["Straße-Geheim"]).text("x STRASSE-GEHEIM y") == f"x {MASK} y"
    # Text before the secret whose folding is longer does not shift the masked span.
    assert Masker(["secret-value"]).text("ßß SECRET-VALUE ßß İ") == f"ßß {MASK} ßß İ"
    assert Masker(["geheim-ß"]).text("ŉ GEHEIM-SS ŉ") == f"ŉ {MASK} ŉ"


def test_overlapping_forms_leave_no_fragment() -> None:
    masker = Masker(["abcdef-123", "123-ghijkl"])
    assert masker.text("abcdef-123-ghijkl") == MASK
    assert masker.text("abcdef-123 123-ghijkl") == f"{MASK} {MASK}"


def test_percent_escapes_are_masked_in_either_case_of_hex_digits() -> None:
    masker = Masker([NASTY])
    assert masker.text("q=Pa$$%20w0rd/%22q%22&%3Cx%3E+=Zz") == f"q={MASK}"
    assert masker.text("q=pa%24%24%20w0rd%2f%22q%22%26%3cx%3e%2b%3dzz") == f"q={MASK}"
    assert masker.text('"Pa$$ w0rd/\\"q\\"\\u0026\\u003Cx\\u003E+=Zz"') == f'"{MASK}"'


def test_short_secrets_stay_unmasked_and_forms_stay_bounded() -> None:
    assert not Masker(["ab"])
    assert Masker(["abc"]).text("ABC abd") == f"{MASK} abd"
    # A plain secret has a handful of forms; one full of special characters a few dozen (the masker undoes
    # escapes in the text instead of listing the encodings of the secret).
    assert len(secret_forms("s3cr3t-Zebra-7781")) < 10
    assert len(secret_forms(NASTY)) < 60


surroundings = st.text(alphabet="abcXYZ019 %\\&;#u", max_size=3000)


@PROPERTY
@given(secret=secret_texts, before=surroundings, after=surroundings)
@example(secret=NASTY, before="%" * 2000 + "w0rd", after="\\" * 2000)
def test_a_secret_is_found_anywhere_in_a_long_text_full_of_escapes(
    secret: str, before: str, after: str
) -> None:
    """The masker decodes only around anchors of the forms: wherever the secret stands in a long text,
    however many escapes surround it, in whatever layers, it is found."""
    inner = rendered("{{ secrets.s | tojson | urlencode }}", secret)
    for document in ([before, secret, after], [before, inner, after], [before, json.dumps([secret]), after]):
        masked = json.loads(Masker([secret]).text(json.dumps(document)))
        assert len(masked) == 3
        assert MASK in masked[1]
        assert QUOTES.fullmatch(masked[1].replace(MASK, "").replace("[", "").replace("]", "")), masked[1]
