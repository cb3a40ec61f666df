"""Chunking: Markdown by headings (heading path kept, code fences respected, long sections split at
paragraphs with overlap) and one chunk per OpenAPI operation."""

from __future__ import annotations

import itertools

from orchestra.openapi.operations import Catalogue, Operation, Parameter
from orchestra.rag.chunking import Chunk, chunk_catalogue, chunk_markdown, chunk_operation

GUIDE = """Intro line before any heading.

# Guide

Welcome.

## Setup

Install it.

### Tokens

Create a token.

## Usage

Run it.

```bash
# not a heading: a shell comment
orchestra up
```
"""


def test_markdown_sections_keep_their_heading_path() -> None:
    chunks = chunk_markdown(GUIDE)
    assert [chunk.heading for chunk in chunks] == [
        "",
        "Guide",
        "Guide > Setup",
        "Guide > Setup > Tokens",
        "Guide > Usage",
    ]
    assert chunks[0].text == "Intro line before any heading."
    assert chunks[3].text == "Create a token."


def test_a_hash_inside_a_code_fence_is_not_a_heading() -> None:
    usage = chunk_markdown(GUIDE)[-1]
    assert "# not a heading: a shell comment" in usage.text
    assert "orchestra up" in usage.text


def test_a_heading_of_a_higher_level_closes_the_deeper_ones() -> None:
    chunks = chunk_markdown("# A\n\ntext a\n\n### Deep\n\ntext d\n\n## B\n\ntext b\n")
    assert [chunk.heading for chunk in chunks] == ["A", "A > Deep", "A > B"]


def test_a_long_section_is_split_at_paragraphs_with_overlap() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 60 for n in range(10)]
    chunks = chunk_markdown("# Long\n\n" + "\n\n".join(paragraphs), max_chars=1000, overlap=150)
    assert len(chunks) > 2
    assert all(chunk.heading == "Long" for chunk in chunks)
    assert all(len(chunk.text) <= 1000 for chunk in chunks)
    for n in range(10):  # every paragraph begins in some chunk, whole
        assert any(f"Paragraph {n} " in chunk.text for chunk in chunks)
    for before, after in itertools.pairwise(chunks):
        tail = before.text[-60:].split(" ", 1)[1]
        assert after.text.startswith(tail[:40]) or tail[:40] in after.text[:200]


def test_a_paragraph_longer_than_a_chunk_is_cut_at_spaces() -> None:
    text = " ".join(f"w{n}" for n in range(1000))
    chunks = chunk_markdown(text, max_chars=300, overlap=0)
    assert all(len(chunk.text) <= 300 for chunk in chunks)
    words = " ".join(chunk.text for chunk in chunks).split()
    assert words == text.split()


def test_empty_text_gives_no_chunks_and_crlf_is_understood() -> None:
    assert chunk_markdown("") == []
    assert chunk_markdown("# Title\r\n\r\nBody") == [Chunk(heading="Title", text="Body")]


ORDER = Operation(
    operation_id="createOrder",
    method="POST",
    path="/orders",
    summary="Place an order",
    description="Orders one item for an existing customer.",
    tags=("orders",),
    parameters=(Parameter("X-Trace", "header", False, {"type": "string"}, "trace id"),),
    request_schema={
        "type": "object",
        "required": ["customerId"],
        "properties": {
            "customerId": {"type": "string", "format": "uuid", "description": "an existing customer"},
            "quantity": {"type": "integer"},
            "status": {"type": "string", "enum": ["new", "paid"]},
            "lines": {"type": "array", "items": {"type": "array", "items": {"type": "object"}}},
        },
    },
    responses={"201": {"type": "object"}, "422": None},
    security=("bearer",),
)


def test_an_operation_chunk_reads_like_its_documentation() -> None:
    chunk = chunk_operation(ORDER)
    assert chunk.heading == "POST /orders"
    lines = chunk.text.split("\n")
    assert lines[0] == "POST /orders — Place an order"
    assert "operationId: createOrder" in lines
    assert "Orders one item for an existing customer." in lines
    assert "- X-Trace (header, string): trace id" in lines
    assert "- customerId (string uuid, required): an existing customer" in lines
    assert "- quantity (integer)" in lines
    assert '- status (string one of ["new", "paid"])' in lines
    assert "- lines (array of array of object)" in lines
    assert "- 201: object" in lines
    assert "- 422" in lines
    assert "security: bearer" in lines


def test_a_catalogue_gives_one_chunk_per_operation_in_order() -> None:
    health = Operation("health", "GET", "/health")
    catalogue = Catalogue(
        title="Shop", spec_hash="0" * 64, operations={"createOrder": ORDER, "health": health}
    )
    chunks = chunk_catalogue(catalogue)
    assert [chunk.heading for chunk in chunks] == ["POST /orders", "GET /health"]
    assert chunks[1].text == "GET /health\noperationId: health"


def test_a_self_referencing_array_schema_does_not_recurse_forever() -> None:
    schema: dict[str, object] = {"type": "array"}
    schema["items"] = schema
    operation = Operation(
        "loop", "POST", "/loop", request_schema={"type": "object", "properties": {"x": schema}}
    )
    assert "- x (array of array of array of array of any)" in chunk_operation(operation).text
