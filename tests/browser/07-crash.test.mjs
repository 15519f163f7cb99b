// (i) The game crashes under a player. An operator runs `am crash <package>` in the play's
// instance (the board's audited shell, as from the console); the board's watchdog ends the
// play APP_CRASHED, the player's page says the game stopped and offers to play again, and
// playing again works.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, until, controller, operatorToken } from "./lib/harness.mjs";

let browser;
let page;
before(async () => {
  browser = await launch();
  page = await (await context(browser)).newPage();
  logConsole(page, "crash");
});
after(async () => {
  await browser?.close();
});

test("a crashed game ends the play APP_CRASHED, the player is told and plays again", async () => {
  await play(page, env("PLAYRACK_LINK_URL"));
  const session = await page.evaluate(() => window.playrackPlayer.session);
  assert.ok(session, "the player knows its session");
  const op = await operatorToken();
  const entry = await until("the play's instance to be known", async () => {
    const online = await controller("GET", "/v1/online?limit=200", op);
    return online.items.find((e) => e.session_id === session && e.instance_id);
  }, 30_000, 250);
  const version = await controller("GET", `/v1/versions/${entry.version_id}`, op);
  const run = await controller("POST", `/v1/boards/${entry.board_id}/shell`, op, {
    instance_id: entry.instance_id,
    command: `am crash ${version.apk.package}`,
  });
  assert.ok(run.id, JSON.stringify(run));

  await waitState(page, "ended", 30_000);
  const reason = page.getByTestId("end-reason");
  assert.equal(await reason.getAttribute("data-reason"), "APP_CRASHED");
  assert.match(await reason.textContent(), /stopped unexpectedly/);
  await shot(page, "crash-01-game-stopped");
  const ended = await controller("GET", `/v1/sessions/${session}`, op);
  assert.equal(ended.end_reason, "APP_CRASHED", JSON.stringify(ended));

  // The instance went back to the pool: playing again starts the game anew.
  await page.getByTestId("play-again").click();
  await waitState(page, "playing", 90_000);
  const again = await page.evaluate(() => window.playrackPlayer.session);
  assert.notEqual(again, session);
  await shot(page, "crash-02-playing-again");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
});
