// (e) A link with a 5-second trial: the play ends by itself with TRIAL_OVER, and the end
// screen says so. (The controller checks its session timers every second.)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a short trial ends with TRIAL_OVER", async () => {
  const page = await (await context(browser)).newPage();
  logConsole(page, "trial");
  await play(page, env("PLAYRACK_TRIAL_LINK_URL"), "playing");
  assert.match(await page.getByTestId("trial").textContent(), /5 seconds/);
  const t0 = Date.now();
  await waitState(page, "ended", 30_000);
  const secs = (Date.now() - t0) / 1000;
  console.log(`the trial ended ${secs.toFixed(1)} s after playing began`);
  assert.equal(await page.getByTestId("end-reason").getAttribute("data-reason"), "TRIAL_OVER");
  assert.equal(await page.getByTestId("end-reason").textContent(), "Your free trial is over.");
  assert.ok(secs <= 15, `the 5 s trial ended only after ${secs} s of play`);
  await shot(page, "player-08-trial-over");
});
