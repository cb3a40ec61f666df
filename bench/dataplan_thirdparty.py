"""Benchmark: the built-in DataPlan planner beside Schemathesis on SUTs the project did not write.

The SUTs (``thirdparty_suts.py``): the Prefect server (PyPI ``prefect``, Apache-2.0) and Directus (npm
``directus``, BUSL-1.1), installed by this benchmark into a cache folder (``--cache``, default
``~/.cache/orchestra-bench``; never into the project's environment), each started on a free port of
127.0.0.1 with a fresh SQLite database. A SUT that cannot be installed or started is reported with the
reason and counted as skipped (``<sut>_skipped=1``), never as a pass.

Per SUT, with the same budget as ``dataplan.py`` (seeds x examples per operation): the planner's plans
executed by the Data Resolver with the documented user's credentials (Directus: only its e-mail and
password; the planner logs in itself), then Schemathesis' positive examples with that user's token. Valid
rate = 2xx / requests sent; coverage = operations (those the user may call, minus the few listed as left
out, with why) whose own call got a 2xx; leaked = entities left in the SUT after the generator (and, for
the planner, its cleanup), counted by listing every collection the description can delete before and
after. A plan the SUT refuses is planned again from what its refusals name (``dataplan_planner.py``), at
most ``--repairs`` times (default: a run's; 0: never).
Ends with one line of key=value.

    python bench/dataplan_thirdparty.py [--seeds 3] [--examples 5] [--quick] [--sut prefect] [--cache DIR]
                                        [--repairs N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataplan_planner
import dataplan_schemathesis
import httpx
from dataplan_tally import Tally, cleanup_summary, failure_samples, figures, operation_keys, table
from thirdparty_suts import SUTS, Directus, Prefect, Unavailable, wait_until_up

from orchestra.kit.logging import configure as configure_logging

DEFAULT_CACHE = Path.home() / ".cache" / "orchestra-bench"
Sut = Prefect | Directus


@dataclass
class Outcome:
    sut: Sut
    keys: list[str]
    skipped: dict[str, str]
    planner: dict[str, Tally]
    schemathesis: dict[str, Tally]
    planner_left: dict[str, int]  # collection → entities more than before, after the planner's cleanup
    schemathesis_left: dict[str, int] | None  # None: the SUT could not be listed after Schemathesis


def _left(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before.get(key, 0) for key in after if after[key] - before.get(key, 0) > 0}


async def measure(sut: Sut, seeds: list[int], examples: int, repairs: int) -> Outcome:
    with tempfile.TemporaryDirectory(prefix=f"bench-{sut.key}-") as workdir:
        running = await asyncio.to_thread(sut.start, Path(workdir))
        try:
            await wait_until_up(running, sut.health)
            async with httpx.AsyncClient(base_url=running.base_url, trust_env=False, timeout=30) as client:
                prepared = await sut.prepare(client)
                keys = operation_keys(prepared.document, prepared.skipped)
                start = await sut.count(client, prepared.document)
                environment = dataplan_planner.PlannerEnvironment(
                    variables=dict(prepared.variables), secrets=dict(prepared.secrets), repairs=repairs
                )
                api_url = running.base_url + prepared.root
                planner = await dataplan_planner.run(
                    prepared.document, api_url, environment, keys, seeds, examples, prepared.headers
                )
                after_planner = await sut.count(client, prepared.document)
                schemathesis = await asyncio.to_thread(
                    dataplan_schemathesis.run,
                    prepared.document,
                    api_url,
                    prepared.headers,
                    keys,
                    seeds,
                    examples,
                )
                try:
                    after_schemathesis: dict[str, int] | None = await sut.count(client, prepared.document)
                except httpx.HTTPError as error:  # what Schemathesis sent may have brought the SUT down
                    print(f"{sut.title}: cannot list what Schemathesis left ({type(error).__name__})")
                    after_schemathesis = None
        finally:
            running.stop()
    return Outcome(
        sut,
        keys,
        prepared.skipped,
        planner,
        schemathesis,
        _left(start, after_planner),
        None if after_schemathesis is None else _left(after_planner, after_schemathesis),
    )


def report(outcome: Outcome) -> None:
    sut = outcome.sut
    title = f"{sut.title} ({sut.package}, licence {sut.licence}): {len(outcome.keys)} operations"
    print(table(title, outcome.keys, outcome.planner, outcome.schemathesis))
    for key, why in outcome.skipped.items():
        print(f"  (left out: {key} — {why})")
    samples = "\n".join(
        part
        for part in (
            failure_samples("planner", outcome.keys, outcome.planner),
            failure_samples("schemathesis", outcome.keys, outcome.schemathesis),
        )
        if part
    )
    if samples:
        print("  first non-2xx per operation:\n" + samples)
    print(f"  planner cleanup: {cleanup_summary(outcome.keys, outcome.planner)}")
    failed = [
        f"{key} ({outcome.planner[key].cleanups['failed']})"
        for key in outcome.keys
        if outcome.planner[key].cleanups["failed"]
    ]
    if failed:
        print(f"  plans whose cleanup failed: {', '.join(failed)}")
        for key in outcome.keys:
            for why in outcome.planner[key].cleanup_failures[:1]:
                print(f"    {key}: {why}")
    leaky = [
        f"{key} ({outcome.planner[key].leaky_plans})"
        for key in outcome.keys
        if outcome.planner[key].leaky_plans
    ]
    if leaky:
        print(f"  plans that left something in the SUT's listings: {', '.join(leaky)}")
    print(f"  left after the planner's cleanup: {_described(outcome.planner_left)}")
    print(f"  left by Schemathesis: {_described(outcome.schemathesis_left)}")
    p, s = figures(outcome.planner, outcome.keys), figures(outcome.schemathesis, outcome.keys)
    print(
        f"  planner: valid {p.valid_rate:.2f} of {p.sent} requests, coverage {p.coverage:.2f}, "
        f"leaked {sum(outcome.planner_left.values())}; schemathesis: valid {s.valid_rate:.2f} of "
        f"{s.sent}, coverage {s.coverage:.2f}, leaked {_leaked(outcome.schemathesis_left)}\n"
    )


def _leaked(left: dict[str, int] | None) -> str:
    return "unknown" if left is None else str(sum(left.values()))


def _described(left: dict[str, int] | None) -> str:
    if left is None:
        return "unknown (the SUT did not answer its listings)"
    return ", ".join(f"{count} in {collection}" for collection, count in sorted(left.items())) or "nothing"


def summary(outcomes: dict[str, Outcome | str], seeds: int, examples: int, repairs: int) -> str:
    parts = [f"seeds={seeds}", f"examples={examples}", f"repairs={repairs}"]
    for key, outcome in outcomes.items():
        if isinstance(outcome, str):
            parts.append(f"{key}_skipped=1")
            continue
        p, s = figures(outcome.planner, outcome.keys), figures(outcome.schemathesis, outcome.keys)
        parts += [
            f"{key}_operations={len(outcome.keys)}",
            f"{key}_planner_valid_rate={p.valid_rate:.2f}",
            f"{key}_planner_coverage={p.coverage:.2f}",
            f"{key}_planner_leaked={sum(outcome.planner_left.values())}",
            f"{key}_schemathesis_valid_rate={s.valid_rate:.2f}",
            f"{key}_schemathesis_coverage={s.coverage:.2f}",
            f"{key}_schemathesis_leaked={_leaked(outcome.schemathesis_left)}",
        ]
    return " ".join(parts)


async def main(chosen: list[str], cache: Path, seeds: int, examples: int, repairs: int) -> int:
    configure_logging("warning")
    outcomes: dict[str, Outcome | str] = {}
    for key in chosen:
        sut: Sut = SUTS[key](cache)
        try:
            await asyncio.to_thread(sut.install)
            outcomes[key] = await measure(sut, list(range(1, seeds + 1)), examples, repairs)
        except Unavailable as why:
            outcomes[key] = f"{sut.title} ({sut.package}) skipped: {why}"
    for outcome in outcomes.values():
        if isinstance(outcome, str):
            print(outcome + "\n")
        else:
            report(outcome)
    print(summary(outcomes, seeds, examples, repairs))
    return 0


def _arguments(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per operation (default 3)")
    parser.add_argument("--examples", type=int, default=5, help="requests per operation and seed (default 5)")
    parser.add_argument("--quick", action="store_true", help="one seed, two examples: a smoke run")
    parser.add_argument("--sut", action="append", choices=sorted(SUTS), help="only this SUT (repeatable)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"install folder ({DEFAULT_CACHE})")
    parser.add_argument(
        "--repairs",
        type=int,
        default=dataplan_planner.REPAIRS,
        help="plans made again from the SUT's refusals, per plan (default: a run's; 0: never)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.examples = 1, 2
    if args.seeds < 1 or args.examples < 1:
        parser.error("--seeds and --examples must be at least 1")
    if args.repairs < 0:
        parser.error("--repairs must be at least 0")
    return args


if __name__ == "__main__":
    arguments = _arguments()
    sys.exit(
        asyncio.run(
            main(
                arguments.sut or list(SUTS),
                arguments.cache,
                arguments.seeds,
                arguments.examples,
                arguments.repairs,
            )
        )
    )
