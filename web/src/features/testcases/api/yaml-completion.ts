// Completion in a test case's YAML from the published JSON Schema: the keys a mapping may have at the cursor
// (those not written yet), and the values a key allows when the schema lists them. The place in the document
// is read from the indentation of the lines above, so it works while the text is half written.

type Part = string | number;
type SchemaNode = Record<string, unknown>;

export type Suggestion = { label: string; detail?: string; info?: string; apply: string; kind: "key" | "value" };
export type CompletionContext = { path: Part[]; from: number; kind: "key" | "value"; key?: string; siblings: string[] };

type Token = { column: number; key?: string; item?: true; open: boolean };

/** The keys and list markers of one line, left to right, with their columns. ``open``: a key whose value is
 * on the lines below (nothing after the colon). */
function tokens(line: string): Token[] {
  const found: Token[] = [];
  let column = line.length - line.trimStart().length;
  let rest = line.slice(column);
  for (;;) {
    if (rest.startsWith("- ") || rest === "-") {
      found.push({ column, item: true, open: rest.trim() === "-" });
      const skip = rest.length - rest.slice(1).trimStart().length;
      column += skip;
      rest = rest.slice(skip);
      continue;
    }
    const key = /^("[^"]*"|'[^']*'|[^\s#'"{[][^:#]*?)\s*:(\s|$)/.exec(rest);
    if (key) {
      const value = rest.slice(key[0].length).replace(/#.*$/, "").trim();
      found.push({ column, key: (key[1] ?? "").replace(/^["']|["']$/g, ""), open: value === "" });
    }
    return found;
  }
}

function meaningful(line: string): boolean {
  const trimmed = line.trim();
  return trimmed !== "" && !trimmed.startsWith("#");
}

/** Where the cursor is: the path of the mapping it writes a key of (or of the key whose value it writes),
 * the partial word's start, and the keys the mapping already has. */
export function completionContext(text: string, offset: number): CompletionContext | null {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const lines = text.split("\n");
  const lineIndex = text.slice(0, lineStart).split("\n").length - 1;
  const keyAt = /^((?:\s*- )*\s*)([A-Za-z0-9_$.-]*)$/.exec(before);
  const valueAt = /^((?:\s*- )*\s*)([^\s:#][^:#]*?):\s+([^\s#]*)$/.exec(before);
  if (!keyAt && !valueAt) return null;
  const own = tokens(before);
  const column = keyAt ? (keyAt[1] ?? "").length : (valueAt?.[1] ?? "").length;
  const path: Part[] = [];
  // The list items this line opens hold the key being written.
  const items = own.filter((token) => token.item && token.column < column);
  let limit = items[0]?.column ?? column;
  for (let index = lineIndex - 1; index >= 0 && limit > 0; index -= 1) {
    const line = lines[index] ?? "";
    if (!meaningful(line)) continue;
    for (const token of tokens(line).reverse()) {
      if (token.column >= limit) continue;
      if (token.item) path.unshift(0);
      else if (token.key !== undefined && token.open) path.unshift(token.key);
      else continue;
      limit = token.column;
    }
    const indent = line.length - line.trimStart().length;
    if (indent < limit) limit = Math.min(limit, indent);
  }
  path.push(...items.map(() => 0));
  return {
    path,
    from: offset - (keyAt ? (keyAt[2] ?? "") : (valueAt?.[3] ?? "")).length,
    kind: keyAt ? "key" : "value",
    key: valueAt?.[2]?.trim(),
    siblings: keyAt ? siblings(lines, lineIndex, column) : [],
  };
}

/** The keys already written at ``column`` in the mapping around ``lineIndex``: upwards up to its parent (a
 * list item's first key shares the line of its marker), downwards until the mapping ends. */
function siblings(lines: string[], lineIndex: number, column: number): string[] {
  const keys: string[] = [];
  for (let index = lineIndex - 1; index >= 0; index -= 1) {
    const line = lines[index] ?? "";
    if (!meaningful(line)) continue;
    const found = tokens(line);
    const same = found.find((token) => token.column === column && token.key !== undefined);
    if (same?.key !== undefined) keys.push(same.key);
    if (found.some((token) => token.column < column)) break;
  }
  for (let index = lineIndex + 1; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    if (!meaningful(line)) continue;
    const found = tokens(line);
    if (found.length === 0 || (found[0]?.column ?? 0) < column) break;
    const same = found.find((token) => token.column === column && token.key !== undefined);
    if (same?.key !== undefined) keys.push(same.key);
  }
  return keys;
}

// --- the schema at a path ----------------------------------------------------------------------------------

function resolve(root: SchemaNode, node: unknown, seen = 0): SchemaNode[] {
  if (!node || typeof node !== "object" || seen > 20) return [];
  const schema = node as SchemaNode;
  const found: SchemaNode[] = [];
  if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
    const target = schema.$ref
      .slice(2)
      .split("/")
      .reduce<unknown>((at, part) => (at && typeof at === "object" ? (at as SchemaNode)[part] : undefined), root);
    found.push(...resolve(root, target, seen + 1));
  }
  for (const combinator of ["anyOf", "oneOf", "allOf"]) {
    const alternatives = schema[combinator];
    if (Array.isArray(alternatives)) for (const alternative of alternatives) found.push(...resolve(root, alternative, seen + 1));
  }
  if (schema.$ref === undefined) found.push(schema);
  return found;
}

/** The schemas a value at ``path`` may have to match (alternatives expanded). */
export function schemasAt(root: unknown, path: Part[]): SchemaNode[] {
  if (!root || typeof root !== "object") return [];
  let current = resolve(root as SchemaNode, root);
  for (const part of path) {
    const next: SchemaNode[] = [];
    for (const schema of current) {
      if (typeof part === "number") {
        if (schema.items) next.push(...resolve(root as SchemaNode, schema.items));
        continue;
      }
      const properties = schema.properties as SchemaNode | undefined;
      if (properties && part in properties) next.push(...resolve(root as SchemaNode, properties[part]));
      else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        next.push(...resolve(root as SchemaNode, schema.additionalProperties));
      }
    }
    current = next;
  }
  return current;
}

function summary(schema: SchemaNode, root: SchemaNode): string | undefined {
  for (const candidate of [schema, ...resolve(root, schema)]) {
    if (typeof candidate.description === "string") return candidate.description;
  }
  return undefined;
}

/** What to offer at the cursor. */
export function suggestions(root: unknown, context: CompletionContext): Suggestion[] {
  if (context.kind === "key") {
    const offered = new Map<string, Suggestion>();
    for (const schema of schemasAt(root, context.path)) {
      const properties = (schema.properties ?? {}) as Record<string, SchemaNode>;
      const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
      for (const [key, property] of Object.entries(properties)) {
        if (context.siblings.includes(key) || offered.has(key)) continue;
        offered.set(key, {
          label: key,
          detail: required.has(key) ? "required" : undefined,
          info: summary(property, root as SchemaNode),
          apply: `${key}: `,
          kind: "key",
        });
      }
    }
    return [...offered.values()];
  }
  const values = new Set<string>();
  for (const schema of schemasAt(root, [...context.path, context.key ?? ""])) {
    if (Array.isArray(schema.enum)) for (const value of schema.enum) values.add(String(value));
    if (schema.const !== undefined) values.add(String(schema.const));
    if (schema.type === "boolean") ["true", "false"].forEach((value) => values.add(value));
  }
  return [...values].map((value) => ({ label: value, apply: value, kind: "value" }));
}
