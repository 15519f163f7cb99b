// Builds the SDK: type-checks against the generated wire types and writes the declarations
// (tsc), bundles `src/index.ts` into one minified ESM file and one script-tag build that sets the
// global `Playrack` (esbuild), and fails when either is over its gzipped size budget.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import vm from "node:vm";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUDGET_BYTES = 30 * 1024;
const generated = join(root, "src/generated/wire.ts");

if (!existsSync(generated)) {
  console.error(
    "src/generated/wire.ts is missing: generate it from the Rust wire types with\n" +
      "  PLAYRACK_UPDATE_TS=1 cargo test -p playrack-wire ts::",
  );
  process.exit(1);
}

rmSync(join(root, "dist"), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.json")], {
    stdio: "inherit",
  });
} catch {
  console.error("type check failed (if the wire types changed, adapt the SDK to src/generated/wire.ts)");
  process.exit(1);
}

const out = join(root, "dist/playrack.js");
const global = join(root, "dist/playrack.global.js");
const common = {
  entryPoints: [join(root, "src/index.ts")],
  bundle: true,
  platform: "browser",
  target: ["es2020", "chrome90", "safari15", "firefox90"],
  minify: true,
  legalComments: "none",
  logLevel: "warning",
};
await build({ ...common, format: "esm", sourcemap: true, outfile: out });
// For a plain <script> tag: everything under `window.Playrack`.
await build({ ...common, format: "iife", globalName: "Playrack", outfile: global });

// the bundle loads as an ES module without a DOM (nothing touches the page until createPlayer)
const mod = await import(pathToFileURL(out).href);
for (const name of ["createPlayer", "Player", "PlayrackError", "probeSquare", "MAX_POINTERS"]) {
  if (mod[name] === undefined) {
    console.error(`dist/playrack.js does not export ${name}`);
    process.exit(1);
  }
}

// the script build defines the global and nothing else
const sandbox = { window: {}, self: {} };
vm.runInNewContext(readFileSync(global, "utf8"), sandbox);
if (typeof sandbox.Playrack?.createPlayer !== "function") {
  console.error("dist/playrack.global.js does not define Playrack.createPlayer");
  process.exit(1);
}

for (const file of [out, global]) {
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: 9 }).length;
  const name = file.slice(root.length + 1);
  console.log(`${name}: ${(raw.length / 1024).toFixed(1)} kB, ${(gz / 1024).toFixed(1)} kB gzipped (budget ${BUDGET_BYTES / 1024} kB)`);
  if (gz > BUDGET_BYTES) {
    console.error(`${name} is ${gz} bytes gzipped, over the ${BUDGET_BYTES}-byte budget`);
    process.exit(1);
  }
}
