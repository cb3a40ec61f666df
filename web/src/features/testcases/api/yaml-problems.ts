// The problems of a test case's YAML text, each placed where the author has to fix it: YAML syntax (the
// `yaml` package, YAML 1.2 core as the API reads it), then the published JSON Schema (@cfworker/json-schema,
// which needs no eval under our Content-Security-Policy), then what the API said when the text was saved.
import { Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type Pair } from "yaml";
import type { DefinitionIssue } from "./problems";

/** A problem at [from, to) of the text (offsets), with its 1-based line and column for the reader; ``api``:
 * the API reported it (on saving), rather than the check as you type. */
export type Problem = { from: number; to: number; line: number; column: number; message: string; api?: true };

type Part = string | number;

/** 1-based line and column of ``offset``. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

/** The offset of a 1-based line and column (clamped to the text). */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let current = 1; current < line; current += 1) {
    const next = text.indexOf("\n", offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  const lineEnd = text.indexOf("\n", offset);
  const end = lineEnd < 0 ? text.length : lineEnd;
  return Math.min(offset + Math.max(0, column - 1), end);
}

function lineEndAt(text: string, offset: number): number {
  const end = text.indexOf("\n", offset);
  return end < 0 ? text.length : end;
}

function problemAt(text: string, from: number, to: number, message: string): Problem {
  const start = Math.max(0, Math.min(from, text.length));
  // Marked on one line at most, and never empty, so the mark is visible where the problem starts.
  const end = Math.max(Math.min(to, lineEndAt(text, start)), Math.min(start + 1, text.length));
  return { from: start, to: end, ...lineColumn(text, start), message };
}

/** The key of ``parts`` (a pair's key, or a list item) and its value node, as far as the document has them. */
function locate(document: Document, parts: Part[]): { key?: Node; value?: Node } {
  let node: unknown = document.contents;
  let key: Node | undefined;
  for (const part of parts) {
    if (isMap(node)) {
      const pair = (node.items as Pair[]).find((item) => isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) break;
      key = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof part === "number" && part < node.items.length) {
      node = node.items[part];
      key = node as Node;
    } else {
      break;
    }
  }
  return { key, value: (node ?? undefined) as Node | undefined };
}

function rangeOf(node: Node | undefined): [number, number] | undefined {
  return node?.range ? [node.range[0], node.range[1]] : undefined;
}

/** Where the value at ``parts`` is written: its key when ``atKey`` (an unknown key), else the value, else the
 * nearest enclosing place that exists, else the first line. */
export function placeOf(text: string, document: Document, parts: Part[], message: string, atKey = false): Problem {
  const { key, value } = locate(document, parts);
  const range = (atKey ? rangeOf(key) : undefined) ?? rangeOf(value ?? undefined) ?? rangeOf(key) ?? [0, lineEndAt(text, 0)];
  return problemAt(text, range[0], range[1], message);
}

/** The parts of a JSON pointer (``/steps/0/expect``), list indexes as numbers. */
export function pointerParts(pointer: string): Part[] {
  const path = pointer.replace(/^#/, "");
  if (path === "") return [];
  return path
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part) => (/^(0|[1-9][0-9]*)$/.test(part) ? Number(part) : part));
}

// --- the schema's errors, the best of them ---------------------------------------------------------------

const CONTAINERS = new Set(["properties", "items", "prefixItems", "$ref", "anyOf", "oneOf", "allOf", "false", "$dynamicRef"]);
// How badly an error at the value itself says "not this alternative": the wrong type, worst.
const SHAPE: Record<string, number> = { type: 3, required: 1, additionalProperties: 1 };
// Errors about a value as a whole (not about its keys): when every alternative has only these, the value is
// simply not one of the alternatives.
const VALUE = new Set(["type", "pattern", "enum", "const", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "multipleOf"]);

type Leaf = { unit: OutputUnit; segments: string[] };

function combinatorAt(segments: string[], from: number): number {
  for (let index = from; index < segments.length - 1; index += 1) {
    if ((segments[index] === "anyOf" || segments[index] === "oneOf") && /^\d+$/.test(segments[index + 1] ?? "")) return index;
  }
  return -1;
}

function depth(pointer: string): number {
  return pointerParts(pointer).length;
}

/** Of alternatives (anyOf/oneOf) that all failed, the errors of the one the author most likely meant: the
 * fewest errors about the shape of the value itself (a step with `request` is a request step), then the
 * deepest errors (it got furthest), then the fewest. */
function bestLeaves(leaves: Leaf[], from: number): Leaf[] {
  const kept: Leaf[] = [];
  const groups = new Map<string, Map<string, Leaf[]>>();
  for (const leaf of leaves) {
    const at = combinatorAt(leaf.segments, from);
    if (at < 0) {
      kept.push(leaf);
      continue;
    }
    const key = leaf.segments.slice(0, at + 1).join("/");
    const alternatives = groups.get(key) ?? new Map<string, Leaf[]>();
    const alternative = leaf.segments[at + 1] ?? "";
    alternatives.set(alternative, [...(alternatives.get(alternative) ?? []), leaf]);
    groups.set(key, alternatives);
  }
  for (const [key, alternatives] of groups) {
    const at = key.split("/").length - 1;
    const instance = (leaves: Leaf[]) => Math.min(...leaves.map((leaf) => depth(leaf.unit.instanceLocation)));
    const base = Math.min(...[...alternatives.values()].map(instance));
    const score = (leaves: Leaf[]) => [
      leaves
        .filter((leaf) => depth(leaf.unit.instanceLocation) === base)
        .reduce((sum, leaf) => sum + (SHAPE[leaf.unit.keyword] ?? 0), 0),
      -Math.max(...leaves.map((leaf) => depth(leaf.unit.instanceLocation))),
      leaves.length,
    ];
    const ranked = [...alternatives.values()].sort((a, b) => {
      const [x, y] = [score(a), score(b)];
      return x.reduce((order, value, index) => order || value - (y[index] ?? 0), 0);
    });
    const best = ranked[0] ?? [];
    const first = best[0];
    if (!first) continue;
    const scalarMismatch = ranked.every((leaves) =>
      leaves.every((leaf) => depth(leaf.unit.instanceLocation) === base && VALUE.has(leaf.unit.keyword)),
    );
    if (scalarMismatch && ranked.length > 1) {
      // Every alternative refused the value itself (a status of "ok"): one problem naming what would do.
      const inOrder = [...alternatives.values()];
      const expected = [...new Set(inOrder.flatMap((leaves) => leaves.map((leaf) => expectation(leaf.unit))))];
      const unit = { ...first.unit, keyword: "anyOf", error: `expected ${expected.join(" or ")}` };
      kept.push({ unit, segments: first.segments });
    } else {
      kept.push(...bestLeaves(best, at + 2));
    }
  }
  return kept;
}

const TYPES: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  integer: "an integer",
  null: "nothing (null)",
};

function typeName(type: string): string {
  return TYPES[type] ?? `a ${type}`;
}

function expectation(unit: OutputUnit): string {
  const type = /Expected "([^"]+)"/.exec(unit.error)?.[1];
  if (unit.keyword === "type" && type) return typeName(type);
  if (unit.keyword === "pattern") return "text of the documented form";
  if (unit.keyword === "enum" || unit.keyword === "const") return "one of the documented values";
  return unit.error.replace(/\.$/, "");
}

/** The schema's message, in the words the API uses for the same problem. */
function wording(unit: OutputUnit): { message: string; key?: string } {
  const property = /[Pp]roperty "([^"]*)"/.exec(unit.error)?.[1];
  const type = /Instance type "([^"]+)" is invalid\. Expected "([^"]+)"/.exec(unit.error);
  switch (unit.keyword) {
    case "required":
      return { message: `missing required key '${property}'` };
    case "additionalProperties":
      return { message: `unknown key '${property}'`, key: property };
    case "type":
      return { message: type ? `expected ${typeName(type[2] ?? "")}, got ${typeName(type[1] ?? "")}` : unit.error };
    default:
      return { message: unit.error.replace(/\.$/, "") };
  }
}

/** Every problem the JSON Schema finds in ``data``, one per place, placed in ``document``. */
export function schemaProblems(text: string, document: Document, data: unknown, validator: Validator): Problem[] {
  const result = validator.validate(data);
  if (result.valid) return [];
  const leaves = result.errors
    .filter((unit) => !CONTAINERS.has(unit.keyword))
    .map((unit) => ({ unit, segments: unit.keywordLocation.replace(/^#\/?/, "").split("/") }));
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const { unit } of bestLeaves(leaves, 0)) {
    const { message, key } = wording(unit);
    const parts = pointerParts(unit.instanceLocation);
    const problem = key === undefined ? placeOf(text, document, parts, message) : placeOf(text, document, [...parts, key], message, true);
    const id = `${problem.from}:${problem.message}`;
    if (!seen.has(id)) problems.push(problem);
    seen.add(id);
  }
  return problems.sort((a, b) => a.from - b.from);
}

export function makeValidator(schema: unknown): Validator {
  return new Validator(schema as Schema, "2020-12", false);
}

/** The YAML text's document and its syntax problems (YAML 1.2 core, duplicate keys refused). */
export function readYaml(text: string): { document: Document; problems: Problem[] } {
  const document = parseDocument(text, { version: "1.2", schema: "core", uniqueKeys: true, prettyErrors: false });
  const problems = [...document.errors, ...document.warnings].map((error) =>
    problemAt(text, error.pos[0], error.pos[1], error.message.split("\n")[0] ?? ""),
  );
  return { document, problems };
}

/** Every problem of the text, syntax first: schema problems only once the YAML itself reads. */
export function yamlProblems(text: string, validator: Validator | undefined): { problems: Problem[]; name?: string } {
  const { document, problems } = readYaml(text);
  if (problems.length > 0) return { problems };
  const data: unknown = document.toJS({ maxAliasCount: 0 });
  const name = data && typeof data === "object" && "name" in data && typeof data.name === "string" ? data.name : undefined;
  if (text.trim() === "" || data === null || typeof data !== "object" || Array.isArray(data)) {
    return { problems: [problemAt(text, 0, lineEndAt(text, 0), "a test case is a mapping with 'name' and 'steps'")], name };
  }
  return { problems: validator ? schemaProblems(text, document, data, validator) : [], name };
}

/** The API's problems (line and column, or only a path) placed in the text that was sent. */
export function serverProblems(text: string, issues: DefinitionIssue[]): Problem[] {
  const { document } = readYaml(text);
  return issues.map((issue) => {
    if (issue.line !== null && issue.line > 0) {
      const from = offsetOf(text, issue.line, issue.column ?? 1);
      const scalar = /^[^\s,:\]}#]+/.exec(text.slice(from))?.[0].length ?? 1;
      return { ...problemAt(text, from, from + scalar, issue.message), api: true };
    }
    return { ...placeOf(text, document, pathParts(issue.path), issue.message), api: true };
  });
}

/** The parts of a problem path as the API writes it (``steps[0].expect.json['$.id']``). */
export function pathParts(path: string): Part[] {
  const parts: Part[] = [];
  const pattern = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < path.length && (match = pattern.exec(path)) !== null) {
    if (match[1] !== undefined) parts.push(match[1]);
    else if (match[2] !== undefined) parts.push(Number(match[2]));
    else parts.push((match[3] ?? match[4] ?? "").replace(/\\(.)/g, "$1"));
  }
  return parts;
}
