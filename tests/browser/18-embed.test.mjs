// (r) A publisher's own site embeds a try-play link: a page on another origin (a small server
// on loopback, another port) frames the player page of a link that names that origin — the
// game card shows inside, and playing works there — while the same page framing a link that
// names no site gets nothing (the browser refuses the frame).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { env, portal, launch, context, shot, logConsole, controller, until } from "./lib/harness.mjs";

let browser;
let site;
let origin;
before(async () => {
  browser = await launch();
  // The publisher's site: /?src=<url> answers a page with that URL in an iframe.
  site = http.createServer((req, res) => {
    const src = new URL(req.url, "http://x").searchParams.get("src") ?? "";
    const safe = src.replace(/[<>"'&]/g, "");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>A publisher</title><h1>Our games</h1>
      <iframe src="${safe}" width="405" height="720" allow="autoplay; fullscreen; gamepad"></iframe>`);
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${site.address().port}`;
});
after(async () => {
  await browser?.close();
  site?.close();
});

const tenant = () => env("PLAYRACK_TENANT_TOKEN");

/** A new link of the demo game that `origins` may embed. */
const link = (origins) =>
  controller("POST", "/v1/links", tenant(), { game_id: env("PLAYRACK_GAME_ID"), trial_seconds: 120, embed_origins: origins });

/** The player page's frame on the publisher's page, once it has loaded something. */
async function framed(page, code) {
  await page.goto(`${origin}/?src=${encodeURIComponent(`${portal()}/play/${code}`)}`);
  await page.locator("iframe").waitFor();
  return page.locator("iframe").contentFrame();
}

test("a link that names the publisher's site plays inside their page; one that names none is refused", async () => {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "embed");
  const refused = [];
  page.on("console", (m) => {
    if (/frame-ancestors|refused to (display|frame)/i.test(m.text())) refused.push(m.text());
  });

  const named = await link([origin]);
  assert.deepEqual(named.embed_origins, [origin]);
  const frame = await framed(page, named.code);
  await frame.getByTestId("game-card").waitFor({ timeout: 15_000 });
  await frame.getByTestId("play-button").click();
  await until("the framed play to start", async () =>
    (await frame.locator("body").getAttribute("data-player-state")) === "playing", 90_000, 250);
  await shot(page, "embed-01-playing");
  await frame.getByTestId("leave").click();
  await until("the framed play to end", async () =>
    (await frame.locator("body").getAttribute("data-player-state")) === "ended", 30_000, 250);

  const unnamed = await link([]);
  assert.equal(unnamed.embed_origins, undefined);
  const blocked = await framed(page, unnamed.code);
  await until("the browser to refuse the frame", async () => refused.length > 0, 15_000, 100);
  assert.equal(await blocked.getByTestId("game-card").count(), 0, "nothing of the player page shows");
  await ctx.close();
});
