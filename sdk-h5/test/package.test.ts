import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** sdk-h5/, from build-test/test/. */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
/**
 * What `npm pack` may weigh, packed and unpacked. The package is the two builds (the page's
 * download has its own, smaller budget in scripts/build.mjs) and the typed docs.
 */
const PACKED_BUDGET = 72 * 1024;
const UNPACKED_BUDGET = 200 * 1024;

interface PackEntry {
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

test("npm pack makes a public package with types, the ES module and the script build, under budget", () => {
  assert.ok(existsSync(join(root, "dist/playrack.js")), "run `npm run build` first");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  assert.equal(pkg.private, undefined, "publishable");
  assert.equal(pkg.license, "Apache-2.0");
  assert.ok(pkg.repository?.url, "a repository");
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const [entry] = JSON.parse(out) as PackEntry[];
  assert.ok(entry, "npm pack described the package");
  const files = entry.files.map((f) => f.path).sort();
  for (const want of [
    "package.json",
    "README.md",
    "dist/playrack.js",
    "dist/playrack.global.js",
    "dist/types/index.d.ts",
    "dist/types/generated/wire.d.ts",
  ]) {
    assert.ok(files.includes(want), `${want} in ${files.join(", ")}`);
  }
  for (const f of files) {
    assert.ok(/^(package\.json|README\.md|dist\/)/.test(f), `nothing but the build and its readme: ${f}`);
  }
  // every path the manifest points at is in the package
  const pointed = [pkg.main, pkg.types, pkg.unpkg, pkg.exports["."].types, pkg.exports["."].import, pkg.exports["./global"]];
  for (const p of pointed) {
    assert.ok(files.includes(p.replace(/^\.\//, "")), `${p} is packed`);
  }
  assert.ok(entry.size <= PACKED_BUDGET, `packed ${entry.size} bytes > ${PACKED_BUDGET}`);
  assert.ok(entry.unpackedSize <= UNPACKED_BUDGET, `unpacked ${entry.unpackedSize} bytes > ${UNPACKED_BUDGET}`);
});
