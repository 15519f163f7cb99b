/**
 * The examples and the API reference stay true to the SDK: the React example bundles against
 * the SDK's source (and type-checks, in `npm run typecheck`); the plain page calls only what
 * the script build's global `Playrack` has; TypeDoc builds the reference from the source with
 * no warning, and it documents the player's methods.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { build } from "esbuild";

/** sdk-h5/, from build-test/test/. */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

test("the React example bundles with React against the SDK", async () => {
  const out = await build({
    entryPoints: [join(root, "examples/react/main.tsx")],
    bundle: true,
    write: false,
    format: "esm",
    jsx: "automatic",
    alias: { "@playrack/sdk-h5": join(root, "src/index.ts") },
    logLevel: "silent",
  });
  assert.equal(out.errors.length, 0);
  const js = out.outputFiles[0]!.text;
  assert.match(js, /createRoot/, "React is in the bundle");
  assert.match(js, /\/v1\/play\/acquire/, "and so is the SDK");
});

test("the plain page calls only what the script build's global has", () => {
  const global = join(root, "dist/playrack.global.js");
  assert.ok(existsSync(global), "run `npm run build` first");
  const sandbox: Record<string, unknown> = {};
  vm.runInNewContext(readFileSync(global, "utf8"), sandbox);
  const Playrack = (sandbox.Playrack ?? (sandbox as { globalThis?: { Playrack?: unknown } }).globalThis?.Playrack) as
    | { createPlayer: unknown; Player: { prototype: Record<string, unknown> } }
    | undefined;
  assert.ok(Playrack, "the script build sets Playrack");
  assert.equal(typeof Playrack.createPlayer, "function");
  const html = readFileSync(join(root, "examples/plain/index.html"), "utf8");
  assert.match(html, /dist\/playrack\.global\.js/);
  assert.match(html, /Playrack\.createPlayer\(/);
  const calls = [...html.matchAll(/player\.(\w+)\(/g)].map((m) => m[1]!);
  assert.ok(calls.length >= 3, calls.join());
  for (const method of new Set(calls)) {
    assert.equal(typeof Playrack.Player.prototype[method], "function", `Player.${method}`);
  }
});

test("TypeDoc builds the API reference from the source, documenting the player", () => {
  const out = mkdtempSync(join(tmpdir(), "playrack-typedoc-"));
  try {
    execFileSync(process.execPath, [join(root, "node_modules/typedoc/bin/typedoc"), "--out", out], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const player = readFileSync(join(out, "classes/Player.html"), "utf8");
    for (const method of ["play", "listSaves", "lockPointer", "enableSensors", "sendCustom", "setClipboard"]) {
      assert.match(player, new RegExp(`id="${method.toLowerCase()}"`), `Player.${method} documented`);
    }
    assert.match(player, /save picker/, "with its doc comments");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
