// (l) The mouse wheel and the clipboard both ways: a wheel turned over the stream scrolls the game
// where the pointer is (the game keeps its scroll position, read back on the board with the
// operator's shell); text the page puts on the device's clipboard with paste lands in the game's
// focused field; clipboard text past the SDK's limit is refused before it is sent; and what the
// game copies (COPY in its field) reaches the page as the player's `clipboard` event. Last, the
// page's custom channel: a message sent with `sendCustom` comes back from the test game, which
// echoes it, as a `custom` event.

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

test("the wheel scrolls the game, the clipboard goes both ways and the custom channel echoes", async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "wheel");
  await page.addInitScript(() => {
    window.__copied = [];
    window.__custom = [];
  });
  await play(page, env("PLAYRACK_LINK_URL"));
  await page.evaluate(() => {
    window.playrackPlayer.on("clipboard", (e) => window.__copied.push(e.text));
    window.playrackPlayer.on("custom", (e) => window.__custom.push(e.data));
  });
  const where = await playInstance(page);

  // Two notches towards the player (down the page), one to the right.
  const p = await framePoint(page, 0.5, 0.5);
  await page.mouse.move(p.x, p.y);
  const scrollY = await page.evaluate(() => window.scrollY);
  await page.mouse.wheel(0, 200);
  await page.mouse.wheel(100, 0);
  const scroll = await until("the game's scroll position", async () => {
    const text = (await gameFile(where, "scroll")).trim();
    return text === "1 -2" ? text : null;
  }, 20_000, 300);
  assert.equal(scroll, "1 -2", "h +1, v −2 notches");
  assert.equal(await page.evaluate(() => window.scrollY), scrollY, "the page itself did not scroll");

  const before = await gameFile(where, "text_field").catch(() => "");
  const sent = await page.evaluate(() => window.playrackPlayer.setClipboard("礼包码 GIFT-2026", { paste: true }));
  assert.equal(sent, true);
  const field = await until("the pasted text in the game's field", async () => {
    const t = await gameFile(where, "text_field");
    return t.endsWith("礼包码 GIFT-2026") ? t : null;
  }, 20_000, 300);
  assert.ok(field.length >= "礼包码 GIFT-2026".length, field);
  assert.ok(!before.endsWith("礼包码 GIFT-2026"), "it was not there before");
  const tooLong = await page.evaluate(() => window.playrackPlayer.setClipboard("码".repeat(300)));
  assert.equal(tooLong, false, "900 bytes are past MAX_CLIPBOARD_BYTES");

  // The game copies its field: the page hears of it.
  await page.evaluate(() => {
    window.playrackPlayer.send({ t: "key", action: "down", keycode: 278 });
    window.playrackPlayer.send({ t: "key", action: "up", keycode: 278 });
  });
  const copied = await until("the game's copy on the page", async () => {
    const c = await page.evaluate(() => window.__copied);
    return c.length > 0 ? c : null;
  }, 20_000, 200);
  assert.deepEqual(copied, [field], "exactly the field's text, once");

  // The custom channel: the game echoes the page's message.
  const message = JSON.stringify({ level: 3, note: "你好" });
  assert.equal(await page.evaluate((m) => window.playrackPlayer.sendCustom(m), message), true);
  const echoed = await until("the game's answer on the custom channel", async () => {
    const c = await page.evaluate(() => window.__custom);
    return c.length > 0 ? c : null;
  }, 20_000, 200);
  assert.deepEqual(echoed, [message]);

  await shot(page, "wheel-clipboard-01");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  await ctx.close();
});
