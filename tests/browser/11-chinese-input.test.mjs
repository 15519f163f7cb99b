// (k) Chinese through an IME: the player clicks the stream, an input method composes 中文 (the
// browser's own IME path, driven over the DevTools protocol as an IME drives it), and only the
// committed text reaches the game's text field, read back on the board with the operator's
// audited shell; a backspace from the keyboard takes one character back.

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

test("中文 composed through an IME reaches the game's text field once", async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "ime");
  await play(page, env("PLAYRACK_LINK_URL"));
  const where = await playInstance(page);

  // A click in the stream gives the keyboard to the game (the SDK's hidden text input).
  const p = await framePoint(page, 0.5, 0.8);
  await page.mouse.click(p.x, p.y);
  const focused = await page.evaluate(() => document.activeElement?.tagName);
  assert.equal(focused, "TEXTAREA", "the SDK's text input has the keyboard");

  const cdp = await ctx.newCDPSession(page);
  // The IME's drafts (pinyin, then candidates) are not sent...
  for (const draft of ["z", "zh", "zhong", "中"]) {
    await cdp.send("Input.imeSetComposition", { text: draft, selectionStart: draft.length, selectionEnd: draft.length });
  }
  // ...the commit is.
  await cdp.send("Input.insertText", { text: "中文" });
  await cdp.send("Input.imeSetComposition", { text: "ni", selectionStart: 2, selectionEnd: 2 });
  await cdp.send("Input.insertText", { text: "你好" });
  const text = await until("the text field to read 中文你好", async () => {
    const t = await gameFile(where, "text_field");
    return t === "中文你好" ? t : null;
  }, 20_000, 300);
  assert.equal(text, "中文你好");

  await page.keyboard.press("Backspace");
  await until("backspace to take one character back", async () => (await gameFile(where, "text_field")) === "中文你", 20_000, 300);
  await shot(page, "ime-01-typed");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  await ctx.close();
});
