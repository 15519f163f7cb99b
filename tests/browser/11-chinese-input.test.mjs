// (k) Chinese through an IME: the player clicks the stream, an input method composes 中文 (the
// browser's own IME path, driven over the DevTools protocol as an IME drives it), and only the
// committed text reaches the game's text field, read back on the board with the operator's
// audited shell; a backspace from the keyboard takes one character back.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, framePoint, until, controller, operatorToken } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The game's text field on the board (its `files/text_field`), through the operator's shell. */
async function textField(op, entry, pkg) {
  const run = await controller("POST", `/v1/boards/${entry.board_id}/shell`, op, {
    instance_id: entry.instance_id,
    command: `cat /data/data/${pkg}/files/text_field`,
  });
  const done = await until("the shell run to finish", async () => {
    const r = await controller("GET", `/v1/shell-runs/${run.id}`, op);
    return r.status === "done" ? r : null;
  }, 20_000, 200);
  return done.output;
}

test("中文 composed through an IME reaches the game's text field once", async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "ime");
  await play(page, env("PLAYRACK_LINK_URL"));
  const session = await page.evaluate(() => window.playrackPlayer.session);
  const op = await operatorToken();
  const entry = await until("the play's instance", async () => {
    const online = await controller("GET", "/v1/online?limit=200", op);
    return online.items.find((e) => e.session_id === session && e.instance_id);
  }, 30_000, 250);
  const version = await controller("GET", `/v1/versions/${entry.version_id}`, op);

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
    const t = await textField(op, entry, version.apk.package);
    return t === "中文你好" ? t : null;
  }, 20_000, 300);
  assert.equal(text, "中文你好");

  await page.keyboard.press("Backspace");
  await until("backspace to take one character back", async () => (await textField(op, entry, version.apk.package)) === "中文你", 20_000, 300);
  await shot(page, "ime-01-typed");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  await ctx.close();
});
