// The typed API client's types, generated from the OpenAPI document the Python app produces (no server
// needed): src/shared/api/openapi.json (the snapshot the Python tests compare with the app's) and
// src/shared/api/schema.d.ts (openapi-typescript's output; a Vitest test checks it matches the snapshot).
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSchemaTypes } from "./schema-types.mjs";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const venvPython = join(web, "..", ".venv", "bin", "python");
const python = process.env.PYTHON ?? (existsSync(venvPython) ? venvPython : "python3");
const dump = [
  "import json, sys",
  "from orchestra.app import create_app",
  "from orchestra.config import Settings",
  "json.dump(create_app(Settings()).openapi(), sys.stdout, indent=2, sort_keys=True)",
].join("\n");
const document = execFileSync(python, ["-c", dump], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
const out = join(web, "src", "shared", "api");
writeFileSync(join(out, "openapi.json"), `${document}\n`);
writeFileSync(join(out, "schema.d.ts"), await generateSchemaTypes(JSON.parse(document)));
console.log("wrote src/shared/api/openapi.json and src/shared/api/schema.d.ts");
