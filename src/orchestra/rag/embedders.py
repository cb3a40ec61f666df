"""Embedders turn texts into vectors. The built-in one needs no model and no network (feature hashing of
words, word pairs and character trigrams); the Ollama one asks a local embedding model. A failing Ollama
raises ``EmbedderUnavailable``, and callers fall back to the built-in vectors every chunk also stores."""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import httpx
import ollama

from orchestra.config import Settings
from orchestra.rag.words import normalised_tokens

BUILTIN_DIMENSIONS = 512
# Relative weight of each kind of feature: whole words carry the meaning, word pairs the phrasing, and
# character trigrams let word forms the stemmer misses ("authorise"/"authorization") still meet.
_WORD_WEIGHT = 1.0
_PAIR_WEIGHT = 0.5
_TRIGRAM_WEIGHT = 0.25
OLLAMA_BATCH = 32
# After a failure, Ollama is not asked again for this long: a search must not wait for a model that is down
# once per request (and twice when it also catches up missing vectors).
OLLAMA_RETRY_AFTER_S = 30.0


class EmbedderUnavailable(RuntimeError):
    """The embedding model could not answer (unreachable, timed out, error, malformed reply)."""


class Embedder(Protocol):
    name: str  # stored with each vector: vectors of different embedders are never compared
    dimensions: int | None  # None: known only from the model's first answer

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


class BuiltinEmbedder:
    """Deterministic and offline: signed feature hashing with sublinear term frequency, L2-normalised."""

    def __init__(self, dimensions: int = BUILTIN_DIMENSIONS) -> None:
        self.dimensions: int | None = dimensions
        self._size = dimensions
        self.name = f"builtin-v1-{dimensions}"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        vector = [0.0] * self._size
        for feature, (count, weight) in _features(normalised_tokens(text)).items():
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "big") % self._size
            sign = 1.0 if digest[4] & 1 else -1.0
            vector[index] += sign * weight * (1.0 + math.log(count))
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:  # no content words: a fixed unit vector, so cosine distance stays defined
            vector[0] = 1.0
            return vector
        return [v / norm for v in vector]


def _features(tokens: Sequence[str]) -> dict[str, tuple[int, float]]:
    counts: Counter[tuple[str, float]] = Counter()
    for token in tokens:
        counts[("w:" + token, _WORD_WEIGHT)] += 1
        padded = f"<{token}>"
        for start in range(len(padded) - 2):
            counts[("c:" + padded[start : start + 3], _TRIGRAM_WEIGHT)] += 1
    for first, second in itertools.pairwise(tokens):
        counts[(f"b:{first} {second}", _PAIR_WEIGHT)] += 1
    return {feature: (count, weight) for (feature, weight), count in counts.items()}


class OllamaEmbedder:
    """An Ollama embedding model (``/api/embed``), asked in batches; after a failure it is not asked again
    for ``retry_after_s`` (calls fail at once meanwhile)."""

    def __init__(
        self, url: str, model: str, timeout_s: float, retry_after_s: float = OLLAMA_RETRY_AFTER_S
    ) -> None:
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.name = f"ollama:{model}"
        self.dimensions: int | None = None
        self._down_until = 0.0

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if time.monotonic() < self._down_until:
            raise EmbedderUnavailable(
                f"Ollama embedding model {self.model!r} failed recently; not asked again yet"
            )
        try:
            return await self._ask(texts)
        except EmbedderUnavailable:
            self._down_until = time.monotonic() + self.retry_after_s
            raise

    async def _ask(self, texts: list[str]) -> list[list[float]]:
        client = ollama.AsyncClient(host=self.url, timeout=self.timeout_s)
        vectors: list[list[float]] = []
        try:
            for start in range(0, len(texts), OLLAMA_BATCH):
                batch = texts[start : start + OLLAMA_BATCH]
                response = await client.embed(model=self.model, input=batch)
                vectors.extend(self._checked(response.embeddings, len(batch)))
        except (ollama.ResponseError, ConnectionError, httpx.HTTPError, ValueError) as error:
            raise EmbedderUnavailable(f"Ollama embedding model {self.model!r} failed: {error}") from error
        finally:
            await client.close()  # type: ignore[no-untyped-call]
        return vectors

    def _checked(self, embeddings: Sequence[Sequence[float]], expected: int) -> list[list[float]]:
        if len(embeddings) != expected:
            raise ValueError(f"asked for {expected} embeddings, got {len(embeddings)}")
        vectors = [[float(v) for v in vector] for vector in embeddings]
        sizes = {len(vector) for vector in vectors}
        if len(sizes) != 1 or 0 in sizes or (self.dimensions is not None and sizes != {self.dimensions}):
            raise ValueError(f"embeddings of inconsistent or empty dimensions {sorted(sizes)}")
        self.dimensions = sizes.pop()
        return vectors


BUILTIN = BuiltinEmbedder()


def embedder_for(settings: Settings) -> Embedder:
    """Ollama's embedding model when an Ollama URL is configured, else the built-in embedder. One instance
    per configuration and process, so that it remembers a recent failure across requests."""
    if settings.ollama_url:
        return _ollama(settings.ollama_url, settings.ollama_embed_model, settings.ollama_timeout_s)
    return BUILTIN


@functools.lru_cache(maxsize=16)
def _ollama(url: str, model: str, timeout_s: float) -> OllamaEmbedder:
    return OllamaEmbedder(url, model, timeout_s)
