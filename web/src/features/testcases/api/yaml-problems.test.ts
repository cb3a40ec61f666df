import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { lineColumn, makeValidator, offsetOf, pathParts, serverProblems, yamlProblems } from "./yaml-problems";

// The schema the API publishes at /api/v1/schemas/testcase.json (the committed copy).
const schema: unknown = JSON.parse(
  readFileSync(resolve(process.cwd(), "..", "src", "orchestra", "schemas", "testcase.schema.json"), "utf8"),
);
const validator = makeValidator(schema);

const GOOD = `name: health
steps:
  - name: the service answers
    request:
      method: GET
      url: "{{ env.base_url }}/health"
    expect:
      status: 200
`;

function at(text: string) {
  return yamlProblems(text, validator).problems.map((p) => [p.line, p.column, p.message]);
}

describe("problems of a test case's YAML, placed at their line", () => {
  it("finds none in a valid test case, and reads its name", () => {
    expect(yamlProblems(GOOD, validator)).toEqual({ problems: [], name: "health" });
  });

  it("puts an unknown key at the key, choosing the request step among the kinds of step", () => {
    expect(at(GOOD.replace("status: 200", "statuz: 200"))).toEqual([[8, 7, "unknown key 'statuz'"]]);
  });

  it("says which key is missing, at the mapping that lacks it", () => {
    expect(at(GOOD.replace('      url: "{{ env.base_url }}/health"\n', ""))).toEqual([[5, 7, "missing required key 'url'"]]);
  });

  it("names what a value should have been when every alternative refuses it", () => {
    const [line, column, message] = at(GOOD.replace("status: 200", "status: ok"))[0]!;
    expect([line, column]).toEqual([8, 15]);
    expect(message).toBe("expected an integer or a list or text of the documented form or a mapping or nothing (null)");
  });

  it("reports a wrong type and a too short list where they are", () => {
    expect(at("name: 12\nsteps: []\n")).toEqual([
      [1, 7, "expected a string, got a number"],
      [2, 8, "Array has too few items (0 < 1)"],
    ]);
  });

  it("reports YAML syntax first, and duplicate keys, as the API does", () => {
    expect(at("name: a\nname: b\nsteps: [{request: {url: x}}]\n")[0]!.slice(0, 2)).toEqual([2, 1]);
    expect(at("name: a\nsteps: [\n")).toHaveLength(1);
    expect(at("")).toEqual([[1, 1, "a test case is a mapping with 'name' and 'steps'"]]);
    expect(at("- a\n")).toEqual([[1, 1, "a test case is a mapping with 'name' and 'steps'"]]);
  });

  it("reads YAML 1.2 as the API does: yes is text, 0o17 a number", () => {
    expect(at(GOOD.replace("status: 200", "status: 0o310"))).toEqual([]);
    expect(at(GOOD.replace("method: GET", "method: yes")).map((p) => p[0])).toEqual([5]);
  });
});

describe("the API's problems, placed in the text that was sent", () => {
  it("uses the line and column the API gives", () => {
    const text = GOOD.replace("status: 200", "statuz: 200");
    const problem = serverProblems(text, [{ path: "steps[0].expect", line: 8, column: 7, message: "unknown key 'statuz'" }])[0]!;
    expect(text.slice(problem.from, problem.to)).toBe("statuz");
    expect([problem.line, problem.column]).toEqual([8, 7]);
  });

  it("finds the place of a problem that has only a path", () => {
    const problem = serverProblems(GOOD, [{ path: "steps[0].request.url", line: null, column: null, message: "m" }])[0]!;
    expect(problem.line).toBe(6);
    const top = serverProblems(GOOD, [{ path: "", line: null, column: null, message: "m" }])[0]!;
    expect(top.line).toBe(1);
  });

  it("never places a problem outside the text", () => {
    const problem = serverProblems("a: 1\n", [{ path: "", line: 99, column: 99, message: "m" }])[0]!;
    expect(problem.from).toBeLessThanOrEqual(5);
  });
});

describe("positions and paths", () => {
  it("converts offsets and lines both ways", () => {
    const text = "ab\ncd\n";
    expect(lineColumn(text, 4)).toEqual({ line: 2, column: 2 });
    expect(offsetOf(text, 2, 2)).toBe(4);
    expect(offsetOf(text, 9, 1)).toBe(text.length);
  });

  it("reads the API's paths", () => {
    expect(pathParts("steps[0].expect.json['$.id']")).toEqual(["steps", 0, "expect", "json", "$.id"]);
    expect(pathParts("")).toEqual([]);
  });
});
