// The committed client types are what openapi-typescript makes of the committed OpenAPI snapshot; the
// Python tests check that snapshot against the app's current /api/v1/openapi.json. Together: the client
// is never older than the API. (`npm run gen:api` refreshes both.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error: a plain .mjs script shared with gen-api
import { generateSchemaTypes } from "./schema-types.mjs";

const api = join(__dirname, "..", "src", "shared", "api");

describe("the generated API client", () => {
  it("matches the committed OpenAPI snapshot (else: npm run gen:api)", async () => {
    const document = JSON.parse(readFileSync(join(api, "openapi.json"), "utf8"));
    const generated: string = await generateSchemaTypes(document);
    expect(readFileSync(join(api, "schema.d.ts"), "utf8")).toBe(generated);
  }, 30_000);
});
