"""The ai-service's HTTP contract (what the API sends and gets back). Every input is bounded: a request that
would make a model read megabytes is refused with 422 before any work starts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(min_length=1, max_length=100)]
# The same limits as the API's public chat endpoint (orchestra.assistant.schemas imports them).
MAX_MESSAGES = 50
MAX_MESSAGE_CHARS = 20_000
MAX_FAILURES = 20
MAX_BODY_CHARS = 4000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TestCaseRef(_In):
    __test__ = False  # not a pytest test class

    id: Id | None = None
    version_id: Id | None = None
    name: str = Field(default="", max_length=200)
    requirements: dict[str, Any] = Field(default_factory=dict)


class RepairFailure(_In):
    """A call of a plan that the SUT refused: what the planner gets back to correct the plan."""

    binding: str = Field(max_length=100)
    operation: str = Field(default="", max_length=200)
    status: int | None = None
    response_body: Any = None
    reason: str = Field(default="", max_length=MAX_BODY_CHARS)


class RepairRequest(_In):
    plan: dict[str, Any]
    failures: list[RepairFailure] = Field(default_factory=list, max_length=MAX_FAILURES)


class PlanRequest(_In):
    project_id: Id
    environment_id: Id
    test_case: TestCaseRef
    seed: int | None = None
    repair: RepairRequest | None = None


class PlanResponse(BaseModel):
    plan: dict[str, Any]
    planner: str
    notices: list[str] = Field(default_factory=list)


class ExplainRequest(_In):
    run_id: Id


class Finding(BaseModel):
    text: str
    citations: list[str] = Field(default_factory=list)


class EvidenceItem(BaseModel):
    id: str
    kind: str
    title: str
    excerpt: str


class ExplainResponse(BaseModel):
    run_id: str
    summary: str
    findings: list[Finding]
    evidence: list[EvidenceItem]
    model: str | None = None


class SuggestRequest(_In):
    project_id: Id
    environment_id: Id
    operation_id: Annotated[str, Field(min_length=1, max_length=200)]


class SuggestResponse(BaseModel):
    operation_id: str
    test_cases: list[dict[str, Any]]
    notes: list[str] = Field(default_factory=list)
    model: str | None = None


class ChatMessage(_In):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class ChatRequest(_In):
    project_id: Id
    environment_id: Id | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)


class Citation(BaseModel):
    id: str
    title: str
    excerpt: str


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any]


class ChatResponse(BaseModel):
    reply: str
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    model: str | None = None


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: str | None = None
