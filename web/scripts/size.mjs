// The gzipped size of the JavaScript the first page load needs (index.html's module script and the chunks
// it preloads), from the build in the Python package. Last line: key=value.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const dist = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "orchestra", "web_dist");
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((match) => match[1]);
let gzipped = 0;
for (const script of scripts) {
  const size = gzipSync(readFileSync(join(dist, script))).length;
  console.log(`${script} ${(size / 1024).toFixed(1)} KB gzipped`);
  gzipped += size;
}
console.log(`initial_js_files=${scripts.length} initial_js_gzip_kb=${(gzipped / 1024).toFixed(1)}`);
