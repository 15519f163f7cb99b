// Compiles the SDK and its tests to JavaScript (tsc, into build-test/) and runs them with
// Node's built-in test runner. No browser: the tests inject fetch, WebSocket, the peer
// connection and the clock.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "build-test"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.test.json")], {
  stdio: "inherit",
});
const dir = join(root, "build-test/test");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".test.js"))
  .map((f) => join(dir, f));
if (files.length === 0) throw new Error("no tests found");
try {
  execFileSync(process.execPath, ["--test", ...process.argv.slice(2), ...files], { stdio: "inherit" });
} catch {
  process.exit(1);
}
