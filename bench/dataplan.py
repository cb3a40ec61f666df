"""Benchmark: how many of the requests the built-in DataPlan planner generates a SUT accepts (2xx), and how
many operations it reaches, beside Schemathesis' positive examples for the same operations, in the same run.

Three SUTs: the demo SUT (a real implementation with business rules: ids must exist, names are unique,
bearer auth), the Swagger Petstore OpenAPI 3.0 description (``bench/specs``, Apache-2.0), served by
``conformance_sut.py``, which accepts exactly the requests the description allows — for it the 2xx rate
measures conformance of the generated requests to the description, not business rules — and the login SUT
(``tests/integration/login_sut.py``: a log-in taking ``{"user": {"email", "password"}}`` and answering the
token at ``$.user.token``, secured calls that need ``Authorization: Token <jwt>`` and answer 403 without),
for which the planner is given only the user's email and password as secrets; and the conduit SUT
(``tests/integration/conduit_sut.py``: the login SUT plus favourites, follows, profiles and ``PUT /user`` of
the shared user, the RealWorld shape), with the same secrets.

For every operation and seed the planner plans ``examples`` times (one plan: prerequisites created through
producer operations, then the operation itself) and the Data Resolver executes the plan; every request it
sends counts (prerequisites and the token request included), then the plan's cleanup runs (not counted).
Schemathesis draws ``examples`` positive cases per operation and seed and sends them with the same
credentials (for the demo SUT the bearer token from ``/auth/token``). Valid rate = 2xx / requests sent;
coverage = operations whose own call got at least one 2xx / operations. After each plan's clean-up the
SUT is listed (``dataplan_leaks.py``): a plan that left anything behind is not counted as valid, and
``<sut>_leaked`` is the number of items its listings showed new, changed or gone (0 is the goal);
``<sut>_refused`` counts plans the planner refused (an input it cannot determine, or something it could not
undo). Ends with one line of key=value.

``--leftovers`` plans as a test case with ``data.leftovers: true`` would (what nothing undoes is made, not
refused): the listings then show what such plans leave behind.

    python bench/dataplan.py [--seeds 3] [--examples 5] [--quick] [--leftovers]   (from the repository's root)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataplan_planner
import dataplan_schemathesis
import httpx
import uvicorn
from conformance_sut import create_app, load_document
from dataplan_tally import (
    Figures,
    Tally,
    cleanup_summary,
    failure_samples,
    figures,
    leak_summary,
    operation_keys,
    table,
)

from orchestra.cli.demo_process import DemoProcess
from orchestra.demo import DEMO_PASSWORD, DEMO_USERNAME
from orchestra.kit.logging import configure as configure_logging

PUBLIC_SPEC = Path(__file__).parent / "specs" / "petstore-v3.yaml"
PUBLIC_SOURCE = "Swagger Petstore OpenAPI 3.0 (github.com/swagger-api/swagger-petstore, Apache-2.0)"
# Operations left out of the demo SUT's, and why (printed with the results).
DEMO_SKIPPED = {"GET /slow": "sleeps up to 30 s by design (a timing tool; says nothing about data)"}
# What the conformance SUT demands for the Petstore's security schemes (oauth2 → any bearer, api_key).
PUBLIC_CREDENTIALS = {"token": "bench-token", "api_key": "bench-api-key"}
LOGIN_SUT = "tests.integration.login_sut"
LOGIN_CREDENTIALS = {"email": "bench@example.com", "password": "bench-password-1"}
CONDUIT_SUT = "tests.integration.conduit_sut"


NOTES = """\
Notes: the planner's requests include its prerequisites (producer calls, the token request); "own 2xx/plans"
counts the plans whose call of the operation itself got a 2xx. Schemathesis: positive mode, fuzzing phase
only (no explicit examples, no stateful links), JSON bodies where accepted, the same credentials as the
planner; Hypothesis draws fewer cases for an operation with little or nothing to vary. The public SUT checks
conformance to its description only (no business rules); the demo SUT is a real implementation."""


@dataclass
class SutResult:
    name: str
    keys: list[str]
    planner: dict[str, Tally]
    schemathesis: dict[str, Tally]

    def planner_figures(self) -> Figures:
        return figures(self.planner, self.keys)

    def schemathesis_figures(self) -> Figures:
        return figures(self.schemathesis, self.keys)


@asynccontextmanager
async def conformance_sut(document: dict[str, Any]) -> AsyncIterator[str]:
    """The conformance SUT under uvicorn on a free port of 127.0.0.1, served in this event loop."""
    config = uvicorn.Config(
        create_app(document), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                raise RuntimeError("the conformance SUT did not start")
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def demo_document_and_token(base_url: str) -> tuple[dict[str, Any], str]:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
        document = (await client.get("/openapi.json")).raise_for_status().json()
        credentials = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
        token = (await client.post("/auth/token", json=credentials)).raise_for_status().json()
    return document, str(token["access_token"])


async def login_document_and_token(base_url: str) -> tuple[dict[str, Any], str]:
    """The login SUT's description, and a token of a user signed up with LOGIN_CREDENTIALS."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
        document = (await client.get("/openapi.json")).raise_for_status().json()
        user = {"user": {**LOGIN_CREDENTIALS, "username": "bench"}}
        (await client.post("/users", json=user)).raise_for_status()
        answer = (await client.post("/users/login", json={"user": LOGIN_CREDENTIALS})).raise_for_status()
    return document, str(answer.json()["user"]["token"])


async def measure(
    name: str,
    document: dict[str, Any],
    base_url: str,
    skipped: Mapping[str, str],
    planner_env: dataplan_planner.PlannerEnvironment,
    headers: Mapping[str, str],
    seeds: list[int],
    examples: int,
) -> SutResult:
    keys = operation_keys(document, skipped)
    planner = await dataplan_planner.run(document, base_url, planner_env, keys, seeds, examples, headers)
    schemathesis = await asyncio.to_thread(
        dataplan_schemathesis.run, document, base_url, headers, keys, seeds, examples
    )
    return SutResult(name, keys, planner, schemathesis)


def report(result: SutResult, skipped: Mapping[str, str]) -> None:
    print(
        table(
            f"{result.name}: {len(result.keys)} operations", result.keys, result.planner, result.schemathesis
        )
    )
    for key, why in skipped.items():
        print(f"  (left out: {key} — {why})")
    samples = "\n".join(
        part
        for part in (
            failure_samples("planner", result.keys, result.planner),
            failure_samples("schemathesis", result.keys, result.schemathesis),
        )
        if part
    )
    if samples:
        print("  first non-2xx per operation:\n" + samples)
    cleanup = cleanup_summary(result.keys, result.planner)
    print(f"  planner cleanup (undoing what its plans created; not counted above): {cleanup}")
    leaked, leaky, refused = leak_summary(result.keys, result.planner)
    print(f"  left in the SUT after clean-up (listed): {leaked} item(s) by {leaky} plan(s)")
    print(f"  plans refused (an input not determined, or something not undone): {refused}")
    p, s = result.planner_figures(), result.schemathesis_figures()
    print(
        f"  planner: valid {p.valid_rate:.2f} of {p.sent} requests, coverage {p.coverage:.2f}; "
        f"schemathesis: valid {s.valid_rate:.2f} of {s.sent}, coverage {s.coverage:.2f}\n"
    )


def summary_line(
    demo: SutResult, public: SutResult, login: SutResult, conduit: SutResult, seeds: int, examples: int
) -> str:
    figures_by_prefix = {"demo": demo, "public": public, "login": login, "conduit": conduit}
    parts = [f"seeds={seeds}", f"examples={examples}"]
    for prefix, result in figures_by_prefix.items():
        p, s = result.planner_figures(), result.schemathesis_figures()
        parts += [
            f"{prefix}_operations={len(result.keys)}",
            f"{prefix}_planner_valid_rate={p.valid_rate:.2f}",
            f"{prefix}_planner_coverage={p.coverage:.2f}",
            f"{prefix}_schemathesis_valid_rate={s.valid_rate:.2f}",
            f"{prefix}_schemathesis_coverage={s.coverage:.2f}",
        ]
        leaked, _, refused = leak_summary(result.keys, result.planner)
        parts += [f"{prefix}_leaked={leaked}", f"{prefix}_refused={refused}"]
    for prefix, result in figures_by_prefix.items():
        p, s = result.planner_figures(), result.schemathesis_figures()
        ratio = p.valid_rate / s.valid_rate if s.valid_rate else float("inf")
        parts.append(f"ratio_{prefix}={ratio:.2f}")
    return " ".join(parts)


async def main(seeds: int, examples: int, leftovers: bool = False) -> None:
    configure_logging("warning")
    seed_values = list(range(1, seeds + 1))
    public_document = load_document(PUBLIC_SPEC)
    demo = await asyncio.to_thread(DemoProcess.start)
    try:
        demo_document, token = await demo_document_and_token(demo.url)
        demo_result = await measure(
            "demo SUT (real implementation, business rules)",
            demo_document,
            demo.url,
            DEMO_SKIPPED,
            dataplan_planner.PlannerEnvironment(
                variables={"username": DEMO_USERNAME},
                secrets={"password": DEMO_PASSWORD},
                leftovers=leftovers,
            ),
            {"Authorization": f"Bearer {token}"},
            seed_values,
            examples,
        )
    finally:
        demo.stop()
    async with conformance_sut(public_document) as public_url:
        public_result = await measure(
            f"public: {PUBLIC_SOURCE}, served by the conformance SUT",
            public_document,
            public_url,
            {},
            dataplan_planner.PlannerEnvironment(
                variables={}, secrets=dict(PUBLIC_CREDENTIALS), leftovers=leftovers
            ),
            {
                "Authorization": f"Bearer {PUBLIC_CREDENTIALS['token']}",
                "api_key": PUBLIC_CREDENTIALS["api_key"],
            },
            seed_values,
            examples,
        )
    login = await asyncio.to_thread(DemoProcess.start, module=LOGIN_SUT)
    try:
        login_document, login_token = await login_document_and_token(login.url)
        login_result = await measure(
            "login SUT (log-in {user: {email, password}} → $.user.token, Authorization: Token <jwt>)",
            login_document,
            login.url,
            {},
            dataplan_planner.PlannerEnvironment(
                variables={}, secrets=dict(LOGIN_CREDENTIALS), leftovers=leftovers
            ),
            {"Authorization": f"Token {login_token}"},
            seed_values,
            examples,
        )
    finally:
        login.stop()
    conduit = await asyncio.to_thread(DemoProcess.start, module=CONDUIT_SUT)
    try:
        conduit_document, conduit_token = await login_document_and_token(conduit.url)
        conduit_result = await measure(
            "conduit SUT (the login SUT + favourites, follows, profiles, PUT /user of the shared user)",
            conduit_document,
            conduit.url,
            {},
            dataplan_planner.PlannerEnvironment(
                variables={}, secrets=dict(LOGIN_CREDENTIALS), leftovers=leftovers
            ),
            {"Authorization": f"Token {conduit_token}"},
            seed_values,
            examples,
        )
    finally:
        conduit.stop()
    report(demo_result, DEMO_SKIPPED)
    report(public_result, {})
    report(login_result, {})
    report(conduit_result, {})
    print(NOTES)
    print(summary_line(demo_result, public_result, login_result, conduit_result, seeds, examples))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per operation (default 3)")
    parser.add_argument("--examples", type=int, default=5, help="requests per operation and seed (default 5)")
    parser.add_argument("--quick", action="store_true", help="one seed, two examples: a smoke run")
    parser.add_argument(
        "--leftovers",
        action="store_true",
        help="plan as with data.leftovers: true (make what nothing undoes)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.examples = 1, 2
    if args.seeds < 1 or args.examples < 1:
        parser.error("--seeds and --examples must be at least 1")
    asyncio.run(main(args.seeds, args.examples, args.leftovers))
    sys.exit(0)
