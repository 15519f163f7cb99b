// (n) A player on a phone in China: Chromium with a phone's viewport, touch and a zh-CN
// Accept-Language. The try-play page speaks Chinese from the card to the end screen (no
// English left on the player path; the game's own name and the switcher's "English" aside);
// playing, the stage takes the whole phone; the game's display turns landscape (the board's
// `wm size`, as a landscape game's rotation would) and the stage follows: a hint asks to turn
// the phone held upright, and turned sideways the picture fills it. The switcher's English
// sticks for the next visit (a cookie), and the page offers a web app manifest.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, waitState, until, playInstance, instanceShell } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Visible text of the page with Latin words in it, beside the game's name and the switcher. */
const english = (page) =>
  page.evaluate(() => {
    const skip = [...document.querySelectorAll("[data-testid=game-name], nav.lang, [data-testid=game-icon], .skip")];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const found = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || skip.some((s) => s.contains(el)) || el.closest("script, style")) continue;
      if (!el.checkVisibility?.() && el.offsetParent === null) continue;
      // Codes in parentheses (ERROR, SDK_MISSING) are for support, not words.
      const text = n.textContent.replace(/\([A-Z_]+\)/g, "");
      if (/[A-Za-z]{2,}/.test(text)) found.push(text.trim());
    }
    return found;
  });

/** The video picture's box on the page (object-fit: contain). */
const picture = (page) =>
  page.evaluate(() => {
    const v = document.querySelector("[data-testid=stream] video");
    const r = v.getBoundingClientRect();
    const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
    return { width: v.videoWidth * scale, height: v.videoHeight * scale, vw: v.videoWidth, vh: v.videoHeight };
  });

test("a phone in Chinese: no English on the player path, and a landscape game fills the phone turned sideways", async () => {
  const ctx = await context(browser, {
    locale: "zh-CN",
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
  const page = await ctx.newPage();
  logConsole(page, "phone");
  await page.goto(env("PLAYRACK_LINK_URL"));
  await waitState(page, "idle", 15_000);
  assert.equal(await page.evaluate(() => document.documentElement.lang), "zh-CN");
  assert.equal(await page.getByTestId("play-button").textContent(), "开始试玩");
  assert.match(await page.getByTestId("trial").textContent(), /^免费试玩 · \d+ (分钟|秒)/);
  assert.deepEqual(await english(page), [], "idle");
  const manifest = await page.evaluate(async () => {
    const href = document.querySelector("link[rel=manifest]").href;
    return (await fetch(href)).json();
  });
  assert.equal(manifest.display, "fullscreen");

  await page.getByTestId("play-button").tap();
  await waitState(page, "playing", 90_000);
  assert.deepEqual(await english(page), [], "playing");
  assert.ok(await page.getByTestId("keyboard").isVisible(), "a touch device gets the keyboard button");
  const stage = await page.getByTestId("stage").boundingBox();
  assert.deepEqual([stage.x, stage.y, stage.width, stage.height], [0, 0, 390, 844], "the stage takes the phone");

  // The game's display turns landscape: the stream, then the stage follow.
  const where = await playInstance(page);
  await instanceShell(where, "wm size 640x360");
  await until("a landscape stream", async () => {
    const p = await picture(page);
    return p.vw > p.vh ? p : null;
  }, 20_000, 200);
  await until("the stage in landscape", () => page.evaluate(() => document.getElementById("stage").dataset.orientation === "landscape"), 10_000, 100);
  assert.ok(await page.getByTestId("rotate-hint").isVisible(), "held upright: turn your phone");
  assert.match(await page.getByTestId("rotate-hint").textContent(), /横/);
  const upright = await picture(page);

  await page.setViewportSize({ width: 844, height: 390 });
  await until("the hint gone", async () => !(await page.getByTestId("rotate-hint").isVisible()), 10_000, 100);
  const sideways = await picture(page);
  assert.ok(sideways.height >= 390 * 0.95, `the picture fills the phone's height: ${JSON.stringify(sideways)}`);
  assert.ok(sideways.width * sideways.height > 3 * upright.width * upright.height, "far larger than upright");
  await shot(page, "phone-zh-01-landscape");
  await instanceShell(where, "wm size reset");

  await page.getByTestId("leave").tap();
  await waitState(page, "ended", 30_000);
  assert.deepEqual(await english(page), [], "ended");
  assert.equal(await page.getByTestId("end-reason").textContent(), "你已退出游戏。");

  // The switcher: English, kept for the next visit whatever the browser asks for.
  await page.getByTestId("lang-en").tap();
  await waitState(page, "idle", 15_000);
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  await page.goto(env("PLAYRACK_LINK_URL"));
  await waitState(page, "idle", 15_000);
  assert.equal(await page.getByTestId("play-button").textContent(), "Play");
  await ctx.close();
});
