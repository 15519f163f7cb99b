import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_RECONNECT, decideReconnect } from "../src/reconnect.js";

test("backoff doubles up to the cap, with ±20 % jitter", () => {
  const p = DEFAULT_RECONNECT;
  const mid = (attempt: number) => decideReconnect(p, attempt, 0, undefined, 0.5);
  assert.deepEqual(mid(0), { kind: "retry", delayMs: 250 });
  assert.deepEqual(mid(1), { kind: "retry", delayMs: 500 });
  assert.deepEqual(mid(3), { kind: "retry", delayMs: 2000 });
  assert.deepEqual(mid(10), { kind: "retry", delayMs: 5000 });
  assert.deepEqual(decideReconnect(p, 0, 0, undefined, 0), { kind: "retry", delayMs: 200 });
  assert.deepEqual(decideReconnect(p, 0, 0, undefined, 1), { kind: "retry", delayMs: 300 });
});

test("no retry past the grace window", () => {
  const p = { ...DEFAULT_RECONNECT, graceMs: 10_000 };
  assert.equal(decideReconnect(p, 4, 5_000, undefined, 0.5).kind, "retry");
  assert.deepEqual(decideReconnect(p, 4, 9_000, undefined, 0.5), { kind: "give-up", why: "GRACE_EXPIRED" });
});

test("refusals a new token cannot fix end the play at once", () => {
  for (const code of ["ROLE_NOT_ALLOWED", "TOKEN_WRONG_BOARD", "ENDED"]) {
    assert.deepEqual(decideReconnect(DEFAULT_RECONNECT, 0, 0, code, 0.5), { kind: "give-up", why: code });
  }
  // a used or expired token is fixed by the fresh one the next attempt fetches
  assert.equal(decideReconnect(DEFAULT_RECONNECT, 0, 0, "TOKEN_REPLAYED", 0.5).kind, "retry");
  assert.equal(decideReconnect(DEFAULT_RECONNECT, 0, 0, "TOKEN_EXPIRED", 0.5).kind, "retry");
});
