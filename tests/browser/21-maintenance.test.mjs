// (u) Scheduled maintenance, as a player meets it: an operator schedules maintenance of the demo
// room a few seconds ahead in the console's form; the player in session there sees a banner
// saying how many minutes are left; when it starts the play ends with the maintenance word on
// the end screen and the play's save is kept; the console shows the window under way, then
// done, and the room takes plays again.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole, play, waitState, controller, operatorToken, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("maintenance is announced in the stream, then ends the play with its save kept", async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "maintenance");
  await play(page, env("PLAYRACK_LINK_URL"), "playing");
  const link = await page.evaluate(() => document.body.dataset.link);
  const saves = async () => (await page.evaluate((link) => window.playrackPlayer.listSaves({ link }), link)).length;
  const before = await saves();

  const opCtx = await context(browser);
  const console_ = await opCtx.newPage();
  logConsole(console_, "maintenance-op");
  await signIn(console_, env("PLAYRACK_OPERATOR_EMAIL"), env("PLAYRACK_OPERATOR_PASSWORD"));
  await console_.goto(`${portal()}/operator/maintenance`);
  // the form's times are the operator's local time, to the second
  const local = (ms) => console_.evaluate((ms) => {
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, ms);
  const now = Date.now();
  await console_.getByTestId("maintenance-room-input").selectOption(env("PLAYRACK_ROOM_ID"));
  await console_.getByTestId("maintenance-starts-input").fill(await local(now + 9_000));
  await console_.getByTestId("maintenance-ends-input").fill(await local(now + 15_000));
  await console_.getByTestId("maintenance-note-input").fill("power work");
  await Promise.all([console_.waitForEvent("load"), console_.getByTestId("maintenance-new-submit").click()]);
  const op = await operatorToken();
  const m = (await controller("GET", "/v1/maintenance?limit=1", op)).items[0];
  assert.equal(m.note, "power work");
  assert.equal(m.room_id, env("PLAYRACK_ROOM_ID"));
  await until("the maintenance banner", async () =>
    /goes into maintenance in 1 min: your game ends then, and your progress is saved/.test(
      (await page.getByTestId("player-notice").textContent()) ?? ""), 10_000, 200);
  assert.ok(Date.now() < Date.parse(m.starts_at), "told before it starts");
  await shot(page, "maintenance-01-banner");

  await waitState(page, "ended", 30_000);
  assert.equal(await page.getByTestId("end-reason").getAttribute("data-reason"), "MAINTENANCE");
  assert.equal(await page.getByTestId("end-reason").textContent(), "The game server went into maintenance. Please come back later.");
  await shot(page, "maintenance-02-ended");
  await until("the play's save kept", async () => (await saves()) === before + 1, 30_000, 500);

  await console_.reload();
  const state = () => console_.getByTestId("maintenance-state").first().getAttribute("data-state");
  assert.ok(["under_way", "done"].includes(await state()), await state());
  await until("the maintenance over", async () => (await controller("GET", `/v1/maintenance/${m.id}`, op)).state === "done", 30_000, 500);
  await console_.reload();
  assert.equal(await state(), "done");
  await shot(console_, "maintenance-03-console");
  await opCtx.close();
  const boards = await controller("GET", "/v1/boards?limit=200", op);
  assert.ok(boards.items.every((b) => b.status === "active"), "the room's boards take plays again");
  await ctx.close();
});
