"""The repair loop with a model, end to end: a run of a test case that declares its data, the real executor
and plan provider, the ai-service (uvicorn) asking the fake Ollama server (real HTTP, the real ``ollama``
client), and a real SUT process (``login_sut.py``: its token sent as ``Token <jwt>``, its refusals saying
why). The model's first plan is wrong in one way; the SUT refuses a call with a 4xx whose body says why;
the repair request the model gets holds that body; its second answer is right, the run passes, and the data
ledger's clean-up leaves nothing in the SUT (asked of the SUT itself). A model that never gets it right
ends the run in error naming the binding and the refusal, with nothing left either."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from orchestra.config import Settings
from orchestra.runtime import Runtime
from orchestra.testdata.provider import PlanProvider
from tests.fakes.ollama_server import FakeOllama, json_reply, text
from tests.integration.conftest import Harness
from tests.integration.test_ai_service import AiWorld, serve_ai
from tests.integration.test_planner_login import SECRETS, articles, start_sut

MODEL = "ollama:qwen2.5:3b"
REPAIR_OPENING = "A previous plan for this test case was run and the SUT refused some calls"
TOKEN = "Token {{ data.login.token }}"


def login(token_field: str = "token") -> dict[str, Any]:
    return {
        "call": {
            "operation": "Login",
            "body": {"user": {"email": "{{ secrets.email }}", "password": "{{ secrets.password }}"}},
            "capture": {"token": f"$.user.{token_field}"},
        }
    }


def article(title: str = "Repair loop", body: Any = None) -> dict[str, Any]:
    return {
        "call": {
            "operation": "CreateArticle",
            "body": body or {"article": {"title": title, "body": "made by the plan"}},
            "capture": {"slug": "$.article.slug", "title": "$.article.title"},
        },
        "cleanup": {"operation": "DeleteArticle", "path": {"slug": "{{ self.slug }}"}},
    }


def comment(slug: str = "{{ data.article.slug }}") -> dict[str, Any]:
    return {
        "call": {
            "operation": "CreateArticleComment",
            "path": {"slug": slug},
            "body": {"comment": {"body": "first"}},
            "capture": {"id": "$.comment.id"},
        },
        "cleanup": {
            "operation": "DeleteArticleComment",
            "path": {"slug": "{{ data.article.slug }}", "commentId": "{{ self.id }}"},
        },
    }


def plan(bindings: dict[str, Any], authorization: str = TOKEN) -> dict[str, Any]:
    return {"version": 1, "defaults": {"headers": {"Authorization": authorization}}, "bindings": bindings}


def commented_plan(slug: str) -> dict[str, Any]:
    return plan({"login": login(), "article": article(), "comment": comment(slug)})


READ_THE_COMMENT = {
    "name": "read the comment",
    "request": {"url": "{{ env.base_url }}/articles/{{ data.article.slug }}/comments"},
    "expect": {"status": 200, "json": {"$.comments[0].id": "{{ data.comment.id }}"}},
}
READ_THE_ARTICLES = {
    "name": "read the articles as the signed-in user",
    "request": {
        "url": "{{ env.base_url }}/articles/{{ data.article.slug }}",
        "headers": {"Authorization": "Token {{ data.login.token }}"},
    },
    "expect": {"status": 200, "json": {"$.article.title": "{{ data.article.title }}"}},
}


@pytest.fixture
def sut_url() -> Iterator[str]:
    process = start_sut()
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture
async def world(
    api: httpx.AsyncClient, sut_url: str, runtime: Runtime, settings: Settings, server_port: int
) -> AiWorld:
    harness = Harness(api, sut_url, f"p-{uuid.uuid4().hex[:8]}")
    await harness.setup(secrets=SECRETS)
    prepared = AiWorld(harness, runtime, settings, server_port)
    await prepared.prepare()
    return prepared


@pytest.fixture
async def model(world: AiWorld, runtime: Runtime) -> AsyncIterator[FakeOllama]:
    """The fake Ollama behind the ai-service, and the executor's plans made by that ai-service."""
    with FakeOllama() as fake:
        async for url in serve_ai(world.ai_settings(ollama_url=fake.url, ollama_timeout_s=5)):
            ai_settings = runtime.settings.model_copy(update={"ai_url": url})
            runtime.executor.plans = PlanProvider(runtime.db, ai_settings, runtime.secrets)
            yield fake


def answers(*plans: dict[str, Any]) -> list[Any]:
    """What the model says for each plan asked of it: ready after looking (no tool call), then the plan."""
    return [item for answer in plans for item in (text("ready"), json_reply(answer))]


def repair_failures(fake: FakeOllama) -> list[list[dict[str, Any]]]:
    """The SUT's refusals as each repair request put them to the model (its final, structured call)."""
    found = []
    for request in fake.chat_requests:
        if "format" not in request:
            continue
        repairs = [m["content"] for m in request["messages"] if m["content"].startswith(REPAIR_OPENING)]
        if repairs:
            assert len(repairs) == 1
            listed = repairs[0].split("\nFailures:\n", 1)[1].split("\nThe new plan must avoid", 1)[0]
            found.append(json.loads(listed))
    return found


def data_steps(run: dict[str, Any]) -> list[tuple[str, str]]:
    return [(step["name"], step["status"]) for step in run["steps"] if step["phase"] == "data"]


async def ledger(world: AiWorld, run: dict[str, Any]) -> list[tuple[str, str, str]]:
    entries = (await world.harness.api.get(f"/runs/{run['id']}/ledger")).json()
    return [(entry["label"], entry["operation"], entry["status"]) for entry in entries]


async def created_slugs(world: AiWorld, run: dict[str, Any]) -> list[str]:
    entries = (await world.harness.api.get(f"/runs/{run['id']}/ledger")).json()
    return [entry["resource"].rsplit("/", 1)[1] for entry in entries if entry["operation"] == "CreateArticle"]


async def assert_nothing_left(world: AiWorld, run: dict[str, Any], created: int) -> None:
    """Every article the run created is gone from the SUT (asked of the SUT, not of the ledger)."""
    slugs = await created_slugs(world, run)
    assert len(slugs) == created
    async with httpx.AsyncClient(base_url=world.harness.base_url) as sut:
        for slug in slugs:
            assert (await sut.get(f"/articles/{slug}")).status_code == 404, slug
    assert await articles(world.harness.base_url) == []


async def run_case(
    world: AiWorld, name: str, operations: list[str], *steps: dict[str, Any]
) -> dict[str, Any]:
    case = {"name": name, "data": {"operations": operations}, "steps": list(steps)}
    await world.harness.apply(case)
    return await world.harness.wait(await world.harness.start(name), timeout_s=60)


async def test_a_path_parameter_bound_to_the_wrong_field_is_repaired_from_the_404(
    world: AiWorld, model: FakeOllama
) -> None:
    model.script(
        *answers(commented_plan("{{ data.article.title }}"), commented_plan("{{ data.article.slug }}"))
    )
    run = await run_case(world, "wrong-link", ["CreateArticleComment"], READ_THE_COMMENT)

    assert run["status"] == "PASSED", (run["status_reason"], data_steps(run))
    [failures] = repair_failures(model)
    assert [(f["binding"], f["operation"], f["status"]) for f in failures] == [
        ("comment", "CreateArticleComment", 404)
    ]
    assert "no article with slug 'Repair loop'" in failures[0]["response_body"]
    assert data_steps(run) == [
        (f"plan test data ({MODEL})", "passed"),
        ("call login (Login)", "passed"),
        ("call article (CreateArticle)", "passed"),
        ("call comment (CreateArticleComment)", "failed"),
        (f"repair test data plan ({MODEL})", "passed"),
        ("call comment (CreateArticleComment)", "passed"),  # login and article unchanged: kept
    ]
    assert await ledger(world, run) == [
        ("article", "CreateArticle", "done"),
        ("comment", "CreateArticleComment", "done"),
    ]
    await assert_nothing_left(world, run, created=1)
    assert SECRETS["password"] not in model.all_request_text()


async def test_a_wrong_capture_is_repaired_and_the_changed_binding_runs_again(
    world: AiWorld, model: FakeOllama
) -> None:
    """The log-in captured the user's name as its token: every secured call is refused with a 403 saying
    the token is not one the SUT gave. The repaired log-in runs again: its old value is not reused."""
    wrong = plan({"login": login("username"), "article": article("Captured")})
    right = plan({"login": login("token"), "article": article("Captured")})
    model.script(*answers(wrong, right))
    run = await run_case(world, "wrong-capture", ["CreateArticle"], READ_THE_ARTICLES)

    assert run["status"] == "PASSED", (run["status_reason"], data_steps(run))
    [failures] = repair_failures(model)
    assert [(f["binding"], f["status"]) for f in failures] == [("article", 403)]
    assert "not a token this server gave" in failures[0]["response_body"]
    assert "$.user.token" in failures[0]["response_body"]
    assert data_steps(run) == [
        (f"plan test data ({MODEL})", "passed"),
        ("call login (Login)", "passed"),
        ("call article (CreateArticle)", "failed"),
        (f"repair test data plan ({MODEL})", "passed"),
        ("call login (Login)", "passed"),
        ("call article (CreateArticle)", "passed"),
    ]
    assert await ledger(world, run) == [("article", "CreateArticle", "done")]
    await assert_nothing_left(world, run, created=1)


async def test_a_misnamed_body_field_is_repaired_from_the_422_naming_it(
    world: AiWorld, model: FakeOllama
) -> None:
    """The article's fields come from a value binding that writes ``headline`` for ``title``: the plan is
    valid (the body is a template), the SUT answers 422 naming the missing field."""

    def fields(name: str) -> dict[str, Any]:
        return {
            "login": login(),
            "fields": {"value": {name: "Named fields", "body": "made by the plan"}},
            "article": article(body={"article": "{{ data.fields }}"}),
        }

    model.script(*answers(plan(fields("headline")), plan(fields("title"))))
    run = await run_case(world, "wrong-field", ["CreateArticle"], READ_THE_ARTICLES)

    assert run["status"] == "PASSED", (run["status_reason"], data_steps(run))
    [failures] = repair_failures(model)
    assert [(f["binding"], f["status"]) for f in failures] == [("article", 422)]
    refusal = json.loads(failures[0]["response_body"])["detail"][0]
    assert (refusal["loc"], refusal["msg"]) == (["body", "article", "title"], "Field required")
    assert [name for name, _ in data_steps(run)].count("call login (Login)") == 1
    assert data_steps(run)[-1] == ("call article (CreateArticle)", "passed")
    assert await ledger(world, run) == [("article", "CreateArticle", "done")]
    await assert_nothing_left(world, run, created=1)


async def test_a_token_sent_in_the_wrong_format_is_repaired_and_every_refusal_reaches_the_model(
    world: AiWorld, model: FakeOllama
) -> None:
    """``Bearer <jwt>`` where the SUT wants ``Token <jwt>``: both calls of the wave are refused with a 403
    saying the format, and the repair request holds both refusals."""
    bindings = {"login": login(), "article": article("First"), "draft": article("Second")}
    model.script(*answers(plan(bindings, "Bearer {{ data.login.token }}"), plan(bindings)))
    run = await run_case(world, "wrong-credential", ["CreateArticle"], READ_THE_ARTICLES)

    assert run["status"] == "PASSED", (run["status_reason"], data_steps(run))
    [failures] = repair_failures(model)
    assert sorted((f["binding"], f["status"]) for f in failures) == [("article", 403), ("draft", 403)]
    for failure in failures:
        assert "send 'Authorization: Token <jwt>'" in failure["response_body"]
    names = [name for name, _ in data_steps(run)]
    assert names.count("call login (Login)") == 1  # the header changed, not the log-in: its token is kept
    assert sorted(await ledger(world, run)) == [
        ("article", "CreateArticle", "done"),
        ("draft", "CreateArticle", "done"),
    ]
    await assert_nothing_left(world, run, created=2)


async def test_a_model_that_keeps_the_wrong_plan_ends_the_run_in_error_and_leaves_nothing(
    world: AiWorld, model: FakeOllama, runtime: Runtime
) -> None:
    attempts = runtime.settings.planner_repair_attempts
    assert attempts >= 1
    wrong = commented_plan("{{ data.article.title }}")
    model.script(*answers(*[wrong] * (attempts + 1)))
    run = await run_case(world, "never-repaired", ["CreateArticleComment"], READ_THE_COMMENT)

    assert run["status"] == "ERROR", run
    reason = run["status_reason"]
    assert f"binding 'comment' failed after {attempts} repair(s) of the plan" in reason, reason
    assert "CreateArticleComment returned 404" in reason
    assert "no article with slug" in reason
    assert len(repair_failures(model)) == attempts
    assert model.pending == 0
    steps = data_steps(run)
    assert steps.count(("call comment (CreateArticleComment)", "failed")) == attempts + 1
    assert steps.count(("call article (CreateArticle)", "passed")) == 1  # unchanged: made once
    assert [step["status"] for step in run["steps"] if step["phase"] == "main"] == ["skipped"]
    assert await ledger(world, run) == [("article", "CreateArticle", "done")]
    await assert_nothing_left(world, run, created=1)


async def test_a_plan_that_ended_a_run_in_error_is_not_given_to_the_next_run(
    world: AiWorld, model: FakeOllama, runtime: Runtime
) -> None:
    """The repairs ran out: the last plan is dropped from the cache, so the next run of the same test case
    asks the model for a new plan (not ``cached:…``), and passes with it."""
    attempts = runtime.settings.planner_repair_attempts
    wrong, right = commented_plan("{{ data.article.title }}"), commented_plan("{{ data.article.slug }}")
    model.script(*answers(*[wrong] * (attempts + 1), right))
    failed = await run_case(world, "failed-then-planned", ["CreateArticleComment"], READ_THE_COMMENT)
    assert failed["status"] == "ERROR", failed
    assert f"after {attempts} repair(s) of the plan" in failed["status_reason"]

    run = await world.harness.wait(await world.harness.start("failed-then-planned"), timeout_s=60)

    assert run["status"] == "PASSED", (run["status_reason"], data_steps(run))
    assert data_steps(run)[0] == (f"plan test data ({MODEL})", "passed")
    assert ("call comment (CreateArticleComment)", "failed") not in data_steps(run)
    assert model.pending == 0
    await assert_nothing_left(world, failed, created=1)
    await assert_nothing_left(world, run, created=1)
