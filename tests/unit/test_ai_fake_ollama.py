"""The fake Ollama server speaks what the real ``ollama`` client sends and parses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import ollama
import pytest

from tests.fakes.ollama_server import (
    FakeOllama,
    Fault,
    Slow,
    embedding,
    json_reply,
    text,
    tool_call,
    unused_url,
)


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture
async def client(fake: FakeOllama) -> AsyncIterator[ollama.AsyncClient]:
    async with ollama.AsyncClient(host=fake.url) as c:
        yield c


async def test_tool_call_then_structured_reply_round_trip_and_are_recorded(
    fake: FakeOllama, client: ollama.AsyncClient
) -> None:
    fake.script(tool_call("get_operation", operation_id="createItem"), json_reply({"version": 1}))
    first = await client.chat(model="qwen2.5:3b", messages=[{"role": "user", "content": "hi"}], tools=[])
    assert first.message.tool_calls is not None
    assert first.message.tool_calls[0].function.name == "get_operation"
    assert first.message.tool_calls[0].function.arguments == {"operation_id": "createItem"}
    schema = {"type": "object", "properties": {"version": {"type": "integer"}}}
    second = await client.chat(model="qwen2.5:3b", messages=[{"role": "user", "content": "x"}], format=schema)
    assert json.loads(second.message.content or "") == {"version": 1}
    assert fake.chat_requests[1]["format"] == schema
    assert fake.chat_requests[0]["stream"] is False
    assert fake.pending == 0


async def test_streaming_reply_arrives_in_pieces_and_ends_done(
    fake: FakeOllama, client: ollama.AsyncClient
) -> None:
    fake.script(text("a longer streamed answer"))
    parts = [p async for p in await client.chat(model="qwen2.5:3b", messages=[], stream=True)]
    assert len(parts) > 2
    assert parts[-1].done is True
    assert "".join(p.message.content or "" for p in parts) == "a longer streamed answer"


async def test_callable_script_sees_the_request(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    fake.on_chat = lambda body: text(f"you said {body['messages'][-1]['content']}")
    reply = await client.chat(model="qwen2.5:3b", messages=[{"role": "user", "content": "ping"}])
    assert reply.message.content == "you said ping"


async def test_faults_are_raised_by_the_client_as_ollama_errors(
    fake: FakeOllama, client: ollama.AsyncClient
) -> None:
    fake.script(Fault.server_error("boom"))
    with pytest.raises(ollama.ResponseError) as server_error:
        await client.chat(model="qwen2.5:3b", messages=[])
    assert server_error.value.status_code == 500
    assert server_error.value.error == "boom"
    with pytest.raises(ollama.ResponseError) as missing:
        await client.chat(model="llama-unknown", messages=[])
    assert missing.value.status_code == 404
    assert "not found" in missing.value.error
    fake.script(Fault.malformed())
    with pytest.raises(json.JSONDecodeError):
        await client.chat(model="qwen2.5:3b", messages=[])


async def test_unscripted_chat_is_an_error_not_a_silent_answer(
    fake: FakeOllama, client: ollama.AsyncClient
) -> None:
    with pytest.raises(ollama.ResponseError):
        await client.chat(model="qwen2.5:3b", messages=[])


async def test_slow_reply_times_out_the_client(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    fake.script(Slow(5, text("late")))
    with pytest.raises(httpx.TimeoutException):
        async with ollama.AsyncClient(host=fake.url, timeout=0.3) as impatient:
            await impatient.chat(model="qwen2.5:3b", messages=[])


async def test_embeddings_are_deterministic_unit_vectors(
    fake: FakeOllama, client: ollama.AsyncClient
) -> None:
    result = await client.embed(model="nomic-embed-text", input=["create an item", "create an item", "x"])
    first, second, third = (list(v) for v in result.embeddings)
    assert first == second == embedding("create an item", 768)
    assert first != third
    assert abs(sum(v * v for v in first) - 1.0) < 1e-9
    single = await client.embed(model="nomic-embed-text", input="create an item")
    assert list(single.embeddings[0]) == first


def test_similar_texts_embed_closer_than_unrelated_ones() -> None:
    def cosine(a: str, b: str) -> float:
        return sum(x * y for x, y in zip(embedding(a, 256), embedding(b, 256), strict=True))

    assert cosine("create a customer order", "order for a customer") > cosine("create a customer", "zebra")


async def test_tags_and_version_list_the_models(fake: FakeOllama, client: ollama.AsyncClient) -> None:
    listed = await client.list()
    assert [m.model for m in listed.models] == ["qwen2.5:3b", "nomic-embed-text"]
    async with httpx.AsyncClient(base_url=fake.url) as http:
        assert (await http.get("/api/version")).json()["version"]


async def test_unreachable_url_is_a_connection_error() -> None:
    with pytest.raises(ConnectionError):
        async with ollama.AsyncClient(host=unused_url()) as nowhere:
            await nowhere.chat(model="qwen2.5:3b", messages=[])
