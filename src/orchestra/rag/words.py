"""Words as the offline embedder and the full-text index should see them: identifiers split into words
(``customerId`` → customer id, ``/orders/{order_id}`` → orders order id), lower case, light stemming, and
the common verbs of API documentation folded to one word (remove/delete, add/create, fetch/get)."""

from __future__ import annotations

import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")
_MAX_TOKEN = 40

STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i in is it its me my of on or our so that "
    "the their them then there these this to was we what when where which who will with you your".split()
)

# Stems (see ``stem``) that mean the same action or thing in API documentation → one canonical word.
SYNONYMS = {
    "remove": "delete",
    "destroy": "delete",
    "erase": "delete",
    "drop": "delete",
    "add": "create",
    "new": "create",
    "make": "create",
    "insert": "create",
    "register": "create",
    "fetch": "get",
    "retrieve": "get",
    "read": "get",
    "show": "get",
    "view": "get",
    "look": "get",
    "modify": "update",
    "change": "update",
    "edit": "update",
    "alter": "update",
    "enumerate": "list",
    "browse": "list",
    "identifier": "id",
    "authenticate": "auth",
    "authentication": "auth",
    "authorization": "auth",
    "authorize": "auth",
    "login": "auth",
    "credential": "auth",
    "fail": "failure",
    "error": "failure",
    "broken": "failure",
}


def identifier_words(text: str) -> list[str]:
    """The words of ``text`` with identifiers split, lower-cased, unstemmed (for the full-text keywords)."""
    return [w.lower() for w in _NOT_WORD.split(_CAMEL.sub(" ", text)) if w and len(w) <= _MAX_TOKEN]


def stem(word: str) -> str:
    """A deliberately light English stemmer: plurals, -ing, -ed (enough to match API prose)."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement, least in (
        ("ies", "y", 5),
        ("sses", "ss", 5),
        ("ating", "ate", 7),
        ("eting", "ete", 7),
        ("ated", "ate", 6),
        ("eted", "ete", 6),
        ("ing", "", 6),
        ("ed", "", 6),
        ("s", "", 4),
    ):
        if word.endswith(suffix) and len(word) >= least and not word.endswith("ss"):
            base = word[: len(word) - len(suffix)] + replacement
            if suffix in ("ing", "ed") and len(base) > 2 and base[-1] == base[-2]:
                base = base[:-1]  # "mapped" → "map"
            return base
    return word


def normalised_tokens(text: str) -> list[str]:
    """Content words, stemmed and folded by ``SYNONYMS``, in order."""
    tokens = []
    for word in identifier_words(text):
        if word in STOPWORDS:
            continue
        stemmed = stem(word)
        # "removing" stems to "remov": the dropped final e is tried too
        tokens.append(SYNONYMS.get(stemmed) or SYNONYMS.get(stemmed + "e") or SYNONYMS.get(word, stemmed))
    return tokens


def keywords(text: str) -> str:
    """The words inside compound identifiers of ``text`` (paths, camelCase and snake_case names), which
    the English full-text parser keeps whole, so that "customer" finds ``/customers/{customerId}``."""
    words: dict[str, None] = {}
    for token in text.split():
        parts = identifier_words(token)
        if len(parts) > 1:
            for part in parts:
                if part not in STOPWORDS:
                    words.setdefault(part, None)
    return " ".join(words)
