// (d) With capacity 1 (a tenant whose order allows one play at once), a second player — a
// second browser context, so another device — is queued at position 1 and starts playing once
// the first leaves.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, framesDecoded, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a second player waits at position 1 and plays when the first leaves", async () => {
  const url = env("PLAYRACK_QUEUE_LINK_URL");
  const first = await (await context(browser)).newPage();
  const second = await (await context(browser)).newPage();
  logConsole(first, "first");
  logConsole(second, "second");

  await play(first, url, "playing");
  await play(second, url, "queued");
  await until("position 1", async () => (await second.getByTestId("queue-position").textContent()) === "1", 15_000);
  assert.equal(await second.getByTestId("queue-reason").textContent(), "All seats for this game are taken right now.");
  await shot(second, "player-06-queued");
  // still queued while the first plays
  assert.equal(await second.evaluate(() => document.body.dataset.playerState), "queued");

  await first.getByTestId("leave").click();
  await waitState(first, "ended", 30_000);
  const t0 = Date.now();
  await waitState(second, "playing", 90_000);
  console.log(`the second player started ${Date.now() - t0} ms after the first left`);
  const n = await framesDecoded(second);
  await until("the second player's frames to advance", async () => (await framesDecoded(second)) > n + 10, 20_000);
  await shot(second, "player-07-promoted-playing");
  await second.getByTestId("leave").click();
  await waitState(second, "ended", 30_000);
});
