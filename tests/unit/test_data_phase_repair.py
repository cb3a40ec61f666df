"""The data phase's repair loop on its own: a SUT answered in-process (httpx's mock transport, the shop
catalogue of the validation tests), a planner that repairs with the plans it is given, and a sink that keeps
the steps. What a repair keeps of the values already made, what the planner is told, and the reason when
the repairs run out."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.executor.data_phase import DataPhase, DataProgress, ResolverSetup, RunIds
from orchestra.executor.phase_io import Halt
from orchestra.kit.masking import Masker
from orchestra.models.run_states import RunStatus
from orchestra.openapi.operations import Catalogue
from orchestra.steps.outcome import StepOutcome
from orchestra.testdata.plans.dataplan_model import DataPlan
from tests.unit.test_dataplan_validate import POLICY, shop_catalogue

BASE_URL = "https://shop.example.com"
CATALOGUE = shop_catalogue()
TOKEN = "{{ data.login.token }}"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def plan(token_at: str = "$.access_token", customers: int = 1, token_scheme: str = "Bearer") -> DataPlan:
    """A log-in capturing its token at ``token_at``, then ``customers`` customers made with it (the last
    one sending it under ``token_scheme``)."""
    made = {
        f"customer{n}": {
            "call": {
                "operation": "createCustomer",
                "headers": AUTH if n < customers else {"Authorization": f"{token_scheme} {TOKEN}"},
                "body": {"name": f"Ada {n}", "email": f"ada{n}@example.com"},
                "capture": {"id": "$.id"},
            },
            "cleanup": {
                "operation": "deleteCustomer",
                "path": {"customerId": "{{ self.id }}"},
                "headers": AUTH,
            },
        }
        for n in range(1, customers + 1)
    }
    login = {
        "call": {
            "operation": "issueToken",
            "body": {"username": "ada", "password": "{{ secrets.password }}"},
            "capture": {"token": token_at},
        }
    }
    return DataPlan.model_validate({"bindings": {"login": login, **made}})


class Shop:
    """The SUT: a token for every log-in; a customer only for a token it gave, else a 403 saying so."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.customers: dict[str, dict[str, Any]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            self.tokens.append(f"t{len(self.tokens) + 1}")
            return httpx.Response(200, json={"access_token": self.tokens[-1], "user": "ada"})
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.tokens:
            return httpx.Response(403, json={"detail": f"unknown token {token!r}: send the access_token"})
        if request.method == "POST":
            customer_id = str(len(self.customers) + 1)
            self.customers[customer_id] = json.loads(request.content)
            return httpx.Response(201, json={"id": customer_id})
        del self.customers[request.url.path.rsplit("/", 1)[1]]
        return httpx.Response(204)


@dataclass
class Steps:
    """The run as the phase sees it: the steps it commits, in order."""

    committed: list[tuple[str, str]] = field(default_factory=list)
    masker: Masker = field(default_factory=lambda: Masker(["ada-secret"]))
    halted: bool = False

    async def commit_phase_step(
        self, phase: str, name: str, outcome: StepOutcome, started: datetime, duration_ms: float, **_: Any
    ) -> bool:
        self.committed.append((name, outcome.status))
        return False

    def ledger_entry(self, source: str, label: str, operation: str, call: Any) -> Any:
        return (label, operation)

    def manual_ledger_entry(self, *args: Any) -> Any:
        return args

    def time_left_s(self) -> float | None:
        return None

    def time_limit_text(self) -> str:
        return ""


@dataclass(frozen=True)
class Prepared:
    plan: DataPlan
    catalogue: Catalogue = CATALOGUE
    planner: str = "model"
    notices: tuple[str, ...] = ()
    plan_id: uuid.UUID | None = None


class Planner:
    """Plans with the first plan and repairs with the next ones (the last again when none are left); keeps
    the plans it is told to drop from its cache."""

    def __init__(self, *plans: DataPlan, forget_fails: bool = False) -> None:
        self.plans = list(plans)
        self.told: list[list[dict[str, Any]]] = []
        self.forgotten: list[DataPlan] = []
        self.forget_fails = forget_fails

    async def plan_for_run(self, **_: Any) -> Prepared:
        return Prepared(self.plans[0])

    async def repair(self, prepared: Any, *, failures: list[dict[str, Any]], **_: Any) -> Prepared:
        self.told.append(failures)
        return Prepared(self.plans[min(len(self.told), len(self.plans) - 1)])

    async def forget(self, prepared: Any, **_: Any) -> None:
        if self.forget_fails:
            raise ConnectionError("the database is gone")
        self.forgotten.append(prepared.plan)


async def run_phase(
    planner: Planner, sut: Any, steps: Steps, attempts: int = 1
) -> tuple[Halt | None, DataProgress]:
    progress = DataProgress()
    async with httpx.AsyncClient(transport=httpx.MockTransport(sut)) as client:
        phase = DataPhase(
            steps,
            planner,
            RunIds(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()),
            DataRequirements(operations=["createCustomer"]),
            ResolverSetup(client, BASE_URL, POLICY, {}, {"password": "ada-secret"}, 5.0, 4096, 1024),
            repair_attempts=attempts,
        )
        halt = await phase.run(progress)
    return halt, progress


async def test_a_binding_the_repair_changed_runs_again_instead_of_keeping_its_value() -> None:
    """The log-in captured the user's name as its token; the repair captures the token: the log-in runs
    again (its first value was made by the wrong definition) and the customer is made with the new token."""
    planner, shop, steps = Planner(plan(token_at="$.user"), plan()), Shop(), Steps()
    halt, progress = await run_phase(planner, shop, steps)

    assert halt is None, halt
    assert steps.committed == [
        ("plan test data (model)", "passed"),
        ("call login (issueToken)", "passed"),
        ("call customer1 (createCustomer)", "failed"),
        ("repair test data plan (model)", "passed"),
        ("call login (issueToken)", "passed"),
        ("call customer1 (createCustomer)", "passed"),
    ]
    assert progress.values["login"] == {"token": "t2"}
    assert progress.values["customer1"] == {"id": "1"}
    assert [failure["binding"] for failure in planner.told[0]] == ["customer1"]
    assert "unknown token 'ada'" in planner.told[0][0]["response_body"]
    assert planner.forgotten == []  # the repaired plan worked: it stays cached


async def test_the_values_of_bindings_the_repair_left_alone_are_kept() -> None:
    """The second customer sent its token under the wrong scheme; the repair changes only that: the
    log-in and the first customer are not made again."""
    planner = Planner(plan(customers=2, token_scheme="Token"), plan(customers=2))
    shop, steps = Shop(), Steps()
    halt, progress = await run_phase(planner, shop, steps)

    assert halt is None, halt
    names = [name for name, _ in steps.committed]
    assert names.count("call login (issueToken)") == 1
    assert names.count("call customer1 (createCustomer)") == 1
    assert names.count("call customer2 (createCustomer)") == 2
    assert progress.values == {"login": {"token": "t1"}, "customer1": {"id": "1"}, "customer2": {"id": "2"}}
    assert len(shop.customers) == 2


async def test_every_refusal_of_a_wave_reaches_the_planner_and_the_reason_names_them() -> None:
    planner, shop, steps = Planner(plan(token_at="$.user", customers=2)), Shop(), Steps()
    halt, _ = await run_phase(planner, shop, steps, attempts=2)

    assert len(planner.told) == 2
    for told in planner.told:
        assert sorted((failure["binding"], failure["status"]) for failure in told) == [
            ("customer1", 403),
            ("customer2", 403),
        ]
        assert all(failure["operation"] == "createCustomer" for failure in told)
    assert halt is not None
    assert halt.status == RunStatus.ERROR
    assert halt.reason.startswith("test data: binding 'customer1' failed after 2 repair(s) of the plan: ")
    assert "createCustomer returned 403" in halt.reason
    assert halt.reason.endswith("; failed too: 'customer2'")
    assert shop.customers == {}


async def test_a_refusal_beside_a_failure_that_is_not_the_plans_fault_is_not_repaired() -> None:
    """A 5xx beside a 4xx in the same wave: a new plan would not help the SUT; the run ends at once."""
    planner, shop, steps = Planner(plan(customers=2, token_scheme="Token")), Shop(), Steps()

    def down_for_the_first(request: httpx.Request) -> httpx.Response:
        if b"ada1@" in request.content:
            return httpx.Response(503, text="down for maintenance")
        return shop(request)

    halt, _ = await run_phase(planner, down_for_the_first, steps, attempts=2)

    assert planner.told == []
    assert halt is not None
    assert halt.reason.startswith("test data: binding 'customer1' failed: createCustomer returned 503")
    assert halt.reason.endswith("; failed too: 'customer2'")
    assert planner.forgotten == [planner.plans[0]]  # the 403 is the plan's: it is not given again


async def test_a_plan_refused_with_no_repair_allowed_is_dropped_from_the_cache() -> None:
    planner, shop, steps = Planner(plan(token_at="$.user")), Shop(), Steps()
    halt, _ = await run_phase(planner, shop, steps, attempts=0)

    assert planner.told == []
    assert halt is not None
    assert halt.reason.startswith("test data: binding 'customer1' failed: createCustomer returned 403")
    assert planner.forgotten == [planner.plans[0]]


async def test_the_last_repaired_plan_is_dropped_from_the_cache_when_the_repairs_run_out() -> None:
    first, repaired = plan(token_at="$.user"), plan(token_at="$.user", token_scheme="Token")
    planner, shop, steps = Planner(first, repaired), Shop(), Steps()
    halt, _ = await run_phase(planner, shop, steps, attempts=1)

    assert len(planner.told) == 1
    assert halt is not None
    assert halt.reason.startswith("test data: binding 'customer1' failed after 1 repair(s) of the plan: ")
    assert planner.forgotten == [repaired]


async def test_a_plan_that_reads_what_the_sut_does_not_answer_is_dropped_from_the_cache() -> None:
    """The log-in was accepted but its token is not where the plan reads it: not a refusal, no repair,
    and the plan is known to fail."""
    planner, shop, steps = Planner(plan(token_at="$.token")), Shop(), Steps()
    halt, _ = await run_phase(planner, shop, steps, attempts=2)

    assert planner.told == []
    assert halt is not None
    assert halt.reason.startswith("test data: binding 'login' failed: issueToken: capture token")
    assert planner.forgotten == [planner.plans[0]]


async def test_a_plan_the_sut_itself_failed_stays_cached() -> None:
    """Only a 5xx, or no answer at all: the plan is not known to be wrong, the next run may use it."""

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="down for maintenance")

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    for sut, said in ((down, "issueToken returned 503"), (unreachable, "connection refused")):
        planner, steps = Planner(plan()), Steps()
        halt, _ = await run_phase(planner, sut, steps, attempts=2)

        assert halt is not None
        assert halt.reason.startswith("test data: binding 'login' failed"), halt.reason
        assert said in halt.reason, halt.reason
        assert planner.forgotten == []


async def test_a_plan_that_cannot_be_dropped_leaves_the_bindings_failure_the_runs_reason() -> None:
    planner, shop, steps = Planner(plan(token_at="$.user"), forget_fails=True), Shop(), Steps()
    halt, _ = await run_phase(planner, shop, steps, attempts=0)

    assert halt is not None
    assert halt.status == RunStatus.ERROR
    assert halt.reason.startswith("test data: binding 'customer1' failed: createCustomer returned 403")
    assert halt.reason.endswith("; the failed plan is still cached (ConnectionError: the database is gone)")
