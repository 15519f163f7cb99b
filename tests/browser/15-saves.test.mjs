// (o) A player with several saves picks which to continue from: two plays on one device, each
// saved as it ends (the tap counter in the game's data), then the page offers both saves,
// newest first, with their times in the page's language; the player picks the older one and
// the game comes back with its count. The list is this device's: a new device sees none.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, framePoint, until, playInstance, gameFile } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The game's tap counter as saved in its data; null before the game saved one. */
async function taps(where) {
  const text = (await gameFile(where, "taps").catch(() => "")).trim();
  return /^\d+$/.test(text) ? Number(text) : null;
}

/** Taps the picture `n` times and waits until the game counted them. */
async function tap(page, where, n) {
  const before = (await taps(where)) ?? 0;
  const p = await framePoint(page, 0.5, 0.6);
  for (let i = 0; i < n; i++) await page.mouse.click(p.x, p.y);
  return until(`${before + n} taps`, async () => ((await taps(where)) === before + n ? before + n : null), 20_000, 250);
}

/** Leaves, then waits until the controller has the play's save. */
async function leaveAndSave(page, saves) {
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  await until(`${saves} saves`, async () => {
    const list = await page.evaluate((link) => window.playrackPlayer.listSaves({ link }), await page.evaluate(() => document.body.dataset.link));
    return list.length === saves ? list : null;
  }, 30_000, 500);
}

test("a player picks an older save and the game comes back with it", async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "saves");
  await play(page, env("PLAYRACK_LINK_URL"));
  let where = await playInstance(page);
  assert.equal(await tap(page, where, 1), 1, "a new device starts from nothing");
  await leaveAndSave(page, 1);

  await page.getByTestId("play-again").click();
  await waitState(page, "playing", 90_000);
  where = await playInstance(page);
  assert.equal(await tap(page, where, 2), 3, "the newest save was restored, then two more taps");
  await leaveAndSave(page, 2);

  // A fresh visit: the picker offers both, newest first; the player picks the older one.
  await page.reload();
  await waitState(page, "idle", 15_000);
  await until("the save picker", () => page.getByTestId("saves").isVisible(), 15_000, 200);
  const options = await page.getByTestId("save-choice").locator("option").allTextContents();
  assert.equal(options.length, 2, JSON.stringify(options));
  assert.match(options[0], /newest/);
  const older = await page.getByTestId("save-choice").locator("option").nth(1).getAttribute("value");
  await page.getByTestId("save-choice").selectOption(older);
  await shot(page, "saves-01-picker");
  await page.getByTestId("play-button").click();
  await waitState(page, "playing", 90_000);
  where = await playInstance(page);
  const restored = await until("the older save's count", () => taps(where), 20_000, 250);
  assert.equal(restored, 1, "the game shows the older save");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);

  // Another device of the same link has no saves to pick.
  const other = await (await context(browser)).newPage();
  await other.goto(env("PLAYRACK_LINK_URL"));
  await waitState(other, "idle", 15_000);
  const theirs = await other.evaluate(() => window.playrackPlayer.listSaves({ link: document.body.dataset.link }));
  assert.deepEqual(theirs, []);
  assert.equal(await other.getByTestId("saves").isVisible(), false);
  await other.context().close();
  await ctx.close();
});
