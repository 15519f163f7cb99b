// (b) A player opens the demo link and reaches `playing` with decoded frames advancing;
// (c) a tap on the video lights the pixels where it landed within 500 ms;
// (h) playrackPlayer.probeLatency(30) answers 30 samples;
// (f) the player leaves, and the next play in the same browser context (same device id) shows
//     the tap counter restored from the saved archive.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  env, launch, context, shot, logConsole, play, waitState, framesDecoded, framePoint,
  installPixelReader, until, controller,
} from "./lib/harness.mjs";

/** A point in the lower half of the video, where the game draws only its background. */
const TAP = [0.5, 0.75];

let browser;
let ctx;
let page;
before(async () => {
  browser = await launch();
  ctx = await context(browser);
  page = await ctx.newPage();
  logConsole(page, "player");
});
after(async () => {
  await browser?.close();
});

test("the SDK shows the stream in the page's video element", async () => {
  const plain = await (await context(browser)).newPage();
  logConsole(plain, "plain");
  await play(plain, env("PLAYRACK_LINK_URL"));
  try {
    await until("a picture in the <video> (videoWidth > 0)", () => plain.evaluate(() => {
      const v = document.querySelector("[data-testid=stream] video");
      return v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0;
    }), 10_000, 100);
  } finally {
    const tracks = await plain.evaluate(() => document.querySelector("[data-testid=stream] video").srcObject?.getTracks().map((t) => t.kind));
    console.log(`tracks on the page's <video>: ${JSON.stringify(tracks)}`);
    await shot(plain, "player-00-picture");
    await plain.getByTestId("leave").click();
    await waitState(plain, "ended", 30_000);
    await plain.context().close();
  }
});

test("the player reaches playing and decoded frames advance", async () => {
  const t0 = Date.now();
  await play(page, env("PLAYRACK_LINK_URL"));
  console.log(`playing ${Date.now() - t0} ms after Play`);
  assert.equal(await page.evaluate(() => window.playrackPlayer.state), "playing");
  const first = await framesDecoded(page);
  await until("frames to advance", async () => (await framesDecoded(page)) >= first + 30, 20_000);
  const q = await page.evaluate(() => document.querySelector("[data-testid=stream] video").getVideoPlaybackQuality().totalVideoFrames);
  assert.ok(q > 0, `the video element presented frames (${q})`);
  const size = await page.evaluate(() => {
    const v = document.querySelector("[data-testid=stream] video");
    return [v.videoWidth, v.videoHeight];
  });
  assert.deepEqual(size, [Number(env("PLAYRACK_VIDEO_WIDTH")), Number(env("PLAYRACK_VIDEO_HEIGHT"))]);
  await installPixelReader(page);
  // a fresh device: the counter reads 0
  await until("the tap counter to read 0", () => page.evaluate(() => window.__pr.taps() === 0), 10_000, 100);
  await shot(page, "player-02-playing");
});

test("a tap on the video changes the pixels there within 500 ms", async () => {
  const before = await page.evaluate(([x, y]) => window.__pr.lumaAt(x, y), TAP);
  assert.ok(before < 150, `background under the tap point before the tap (luma ${before})`);
  const watch = page.evaluate(([x, y]) => window.__pr.watchTouch(x, y, 180), TAP);
  const p = await framePoint(page, ...TAP);
  await page.mouse.click(p.x, p.y);
  const r = await watch;
  console.log(`tap → lit pixels: ${r.ms?.toFixed(1)} ms (luma ${r.luma}); frames ${JSON.stringify(r.samples)}`);
  assert.ok(r.ms !== null, `the touch mark never showed: ${JSON.stringify(r)}`);
  assert.ok(r.ms <= 500, `the touch mark showed after ${r.ms} ms (> 500 ms)`);
  await until("the tap counter to read 1", () => page.evaluate(() => window.__pr.taps() === 1), 10_000, 100);
  await shot(page, "player-03-tapped");
});

test("probeLatency(30) answers 30 samples", async () => {
  const samples = await page.evaluate(() => window.playrackPlayer.probeLatency(30));
  assert.equal(samples.length, 30);
  assert.ok(samples.every((s) => typeof s === "number" && s >= 0 && s < 2000), JSON.stringify(samples));
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(`probe latency ms: median ${sorted[15].toFixed(1)}, p90 ${sorted[27].toFixed(1)}, max ${sorted[29].toFixed(1)}`);
  const stats = await page.evaluate(() => window.playrackPlayer.stats());
  console.log(`stats: ${JSON.stringify(stats)}`);
  assert.ok(stats.framesDecoded > 0);
  // the frames carry their capture instants (abs-capture-time): capture → shown, in parts
  const l = stats.latency;
  assert.ok(l, "a latency breakdown");
  for (const k of ["captureToReceiveMs", "receiveToShownMs", "captureToShownMs"]) {
    assert.ok(typeof l[k] === "number" && l[k] >= 0 && l[k] < 2000, `${k}: ${JSON.stringify(l)}`);
  }
  assert.ok(Math.abs(l.captureToReceiveMs + l.receiveToShownMs - l.captureToShownMs) < 0.2, JSON.stringify(l));
});

test("a replay in the same browser restores the saved tap counter", async () => {
  const deviceId = await page.evaluate(() => localStorage.getItem("playrack.device_id"));
  assert.ok(deviceId, "the SDK keeps a device id");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  assert.equal(await page.getByTestId("end-reason").getAttribute("data-reason"), "USER_LEFT");
  await shot(page, "player-04-ended");
  // The board saves the archive as the play ends; wait until the controller has it, as a
  // player coming back later would find it.
  const token = env("PLAYRACK_TENANT_TOKEN");
  await until("the play's archive to reach the controller", async () => {
    const page = await controller("GET", `/v1/archives?game_id=${env("PLAYRACK_GAME_ID")}`, token);
    return page.items.length > 0;
  }, 30_000, 250);
  // same context: same localStorage, same device id
  await page.getByTestId("play-again").click();
  await waitState(page, "playing", 90_000);
  assert.equal(await page.evaluate(() => localStorage.getItem("playrack.device_id")), deviceId);
  await installPixelReader(page);
  await until("the restored tap counter to read 1", () => page.evaluate(() => window.__pr.taps() === 1), 15_000, 100);
  await shot(page, "player-05-restored");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
});
