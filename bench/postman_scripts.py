"""Benchmark: what a Postman script costs to start, with and without the libraries Postman preloads.

Runs scripts through the real script workers (one worker process, so the figures are per script, not
spread over processes), interleaving the kinds so that the machine's load weighs on all alike: a plain
script (pm.test with chai: the baseline), then scripts naming lodash 3 (`_`), lodash 4, CryptoJS, moment,
tv4 + ajv, xml2Json, and all of them. A library is put in a script's context only when its text names it,
so the plain script's cost is the one every other script pays; the ratios say what a library adds, and
"eager" what every script would pay if all of them were loaded for each.

Prints the median time of each kind and ends with one line of key=value figures (ratios to the plain
script in the same run).

    python bench/postman_scripts.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from orchestra.steps.scripts.runner import ScriptPool

KINDS = {
    "plain": "pm.test('t', () => pm.expect(1).to.equal(1));",
    "lodash3": "pm.test('t', () => pm.expect(_.pluck([{ a: 1 }], 'a')).to.eql([1]));",
    "lodash4": "pm.test('t', () => pm.expect(require('lodash').chunk([1, 2], 1)).to.have.lengthOf(2));",
    "cryptojs": "pm.test('t', () => pm.expect(CryptoJS.SHA256('a').toString()).to.have.lengthOf(64));",
    "moment": "pm.test('t', () => pm.expect(require('moment').utc(0).year()).to.equal(1970));",
    "schemas": "const Ajv = require('ajv');"
    " pm.test('t', () => pm.expect(tv4.validate(1, {}) && new Ajv().validate({}, 1)).to.be.true);",
    "xml2json": "pm.test('t', () => pm.expect(xml2Json('<a>1</a>').a).to.equal('1'));",
    "all": "_; require('lodash'); CryptoJS; require('moment'); tv4; require('ajv'); xml2Json('<a/>');"
    " pm.test('t', () => {});",
    # what every script would pay if the libraries were loaded whatever it names: the plain script, with a
    # comment naming them all
    "eager": "/* _ lodash CryptoJS moment tv4 ajv xml2js */ pm.test('t', () => pm.expect(1).to.equal(1));",
}
STATE = {"phase": "test", "variables": {}, "data": {}, "request": {"url": "http://h/", "method": "GET"}}


async def main(rounds: int) -> None:
    pool = ScriptPool(size=1)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    try:
        for kind, script in KINDS.items():  # a warm-up each: the worker starts, V8 warms
            result = await pool.run(script, STATE)
            if result.error is not None or not all(test["passed"] for test in result.tests):
                raise SystemExit(f"{kind}: {result}")
        for _ in range(rounds):
            for kind, script in KINDS.items():
                started = time.perf_counter()
                await pool.run(script, STATE)
                times[kind].append((time.perf_counter() - started) * 1000)
    finally:
        await pool.close()
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, median in medians.items():
        print(f"{kind:10} {median:7.1f} ms  (x{median / medians['plain']:.2f} of a plain script)")
    figures = {"rounds": str(rounds), "plain_ms": f"{medians['plain']:.1f}"}
    figures |= {
        f"{kind}_ratio": f"{medians[kind] / medians['plain']:.2f}" for kind in KINDS if kind != "plain"
    }
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(main(parser.parse_args().rounds))
