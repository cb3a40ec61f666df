import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { completionContext, suggestions } from "./yaml-completion";

const schema: unknown = JSON.parse(
  readFileSync(resolve(process.cwd(), "..", "src", "orchestra", "schemas", "testcase.schema.json"), "utf8"),
);

function offer(textWithCursor: string) {
  const offset = textWithCursor.indexOf("|");
  const text = textWithCursor.replace("|", "");
  const context = completionContext(text, offset);
  return { context, labels: context ? suggestions(schema, context).map((s) => s.label) : [] };
}

describe("completion from the test case schema", () => {
  it("offers the top-level keys not written yet", () => {
    const { context, labels } = offer("name: a\n|\nsteps: []\n");
    expect(context?.path).toEqual([]);
    expect(labels).toContain("description");
    expect(labels).toContain("teardown");
    expect(labels).not.toContain("name");
    expect(labels).not.toContain("steps");
  });

  it("offers a step's keys inside a list item, and the request's keys below it", () => {
    const step = offer("name: a\nsteps:\n  - name: one\n    |\n");
    expect(step.context?.path).toEqual(["steps", 0]);
    expect(step.labels).toEqual(expect.arrayContaining(["request", "expect", "capture", "retry"]));
    expect(step.labels).not.toContain("name");

    const request = offer("name: a\nsteps:\n  - request:\n      method: GET\n      u|\n");
    expect(request.context?.path).toEqual(["steps", 0, "request"]);
    expect(request.context?.from).toBe("name: a\nsteps:\n  - request:\n      method: GET\n      ".length);
    expect(request.labels).toContain("url");
    expect(request.labels).not.toContain("method");
  });

  it("offers the keys of a new list item on the line of its marker", () => {
    const { context, labels } = offer("name: a\nsteps:\n  - |\n");
    expect(context?.path).toEqual(["steps", 0]);
    expect(labels).toEqual(expect.arrayContaining(["request", "set", "sleep"]));
  });

  it("offers the values a key allows", () => {
    const { context, labels } = offer("name: a\nsteps:\n  - request:\n      method: |\n");
    expect(context?.kind).toBe("value");
    expect(labels).toEqual(expect.arrayContaining(["GET", "POST", "DELETE"]));
  });

  it("offers nothing inside a comment or a quoted value", () => {
    expect(offer("# a comment |\n").context).toBeNull();
    expect(offer('name: "a |"\n').labels).toEqual([]);
  });
});
