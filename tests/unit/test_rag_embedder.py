"""The built-in embedder and its tokens: deterministic, unit length, and closer for related texts than for
unrelated ones; the fusion of rankings."""

from __future__ import annotations

import math

import pytest

from orchestra.config import Settings
from orchestra.rag.embedders import BUILTIN, BuiltinEmbedder, OllamaEmbedder, embedder_for
from orchestra.rag.retrieval import excerpt, fuse
from orchestra.rag.words import identifier_words, keywords, normalised_tokens, stem


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_identifiers_are_split_into_words() -> None:
    assert identifier_words("DELETE /customers/{customerId}") == ["delete", "customers", "customer", "id"]
    assert identifier_words("max_requests_per_s HTTPServerError") == [
        "max",
        "requests",
        "per",
        "s",
        "http",
        "server",
        "error",
    ]


def test_tokens_are_stemmed_folded_and_without_stop_words() -> None:
    assert normalised_tokens("Removing the customers") == ["delete", "customer"]
    assert normalised_tokens("fetch an order by identifier") == ["get", "order", "id"]
    assert [stem(w) for w in ("created", "updating", "mapped", "policies", "class", "runs")] == [
        "create",
        "update",
        "map",
        "policy",
        "class",
        "run",
    ]


def test_keywords_are_the_words_inside_compound_identifiers() -> None:
    assert keywords("DELETE /customers/{customerId} — Delete a customer") == "customers customer id"
    assert keywords("plain words only") == ""


async def test_the_builtin_embedder_is_deterministic_and_unit_length() -> None:
    texts = ["Delete a customer", "", "!!!"]
    first = await BUILTIN.embed(texts)
    again = await BuiltinEmbedder().embed(texts)
    assert first == again
    assert all(len(vector) == 512 for vector in first)
    for vector in first:
        assert math.sqrt(sum(v * v for v in vector)) == pytest.approx(1.0)
    assert BUILTIN.name == "builtin-v1-512"
    assert BuiltinEmbedder(64).dimensions == 64


@pytest.mark.parametrize(
    ("query", "near", "far"),
    [
        ("delete a customer", "DELETE /customers/{customerId} — Delete a customer", "GET /health — liveness"),
        (
            "remove a customer",
            "DELETE /customers/{customerId} — Delete a customer",
            "POST /customers — Create",
        ),
        ("fetch an order", "GET /orders/{orderId} — Get an order", "DELETE /items/{itemId} — Delete an item"),
        ("token rotation", "Rotate a token by issuing a new one", "Schedules start suites at cron times"),
        ("authorisation header", "The Authorization header carries a bearer token", "Rate limits per second"),
    ],
)
def test_related_texts_are_closer_than_unrelated_ones(query: str, near: str, far: str) -> None:
    q = BUILTIN.vector(query)
    assert cosine(q, BUILTIN.vector(near)) > cosine(q, BUILTIN.vector(far)) + 0.1


def test_embedder_for_picks_ollama_only_when_configured() -> None:
    assert embedder_for(Settings()) is BUILTIN
    configured = Settings(ollama_url="http://127.0.0.1:11434", ollama_embed_model="m", ollama_timeout_s=3)
    chosen = embedder_for(configured)
    assert isinstance(chosen, OllamaEmbedder)
    assert (chosen.name, chosen.url, chosen.timeout_s) == ("ollama:m", "http://127.0.0.1:11434", 3)
    assert embedder_for(configured.model_copy()) is chosen  # one per configuration: it remembers failures
    assert embedder_for(configured.model_copy(update={"ollama_embed_model": "n"})) is not chosen


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = fuse([[1, 2, 3], [4, 2, 5]], k=60)
    assert [item for item, _ in fused] == [2, 1, 4, 3, 5]
    assert fused[0][1] == pytest.approx(2 / 62)
    assert fuse([]) == []


def test_an_excerpt_is_at_most_500_characters() -> None:
    assert excerpt("short") == "short"
    long = excerpt("x" * 2000)
    assert len(long) == 500
    assert long.endswith("…")
