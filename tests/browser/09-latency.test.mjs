// Touch-to-screen latency in Chromium, the lever and its baseline measured in the same run: the
// SDK's latency probe (a `probe` input flips the game's probe square; the SDK times the first
// decoded frame that shows it) on plays with zero playout delay (the default: jitter-buffer
// target 0, `playout-delay` 0–0 on the board's RTP) and on plays that keep the browser's own
// jitter buffering (`?low_latency=0`), alternating, one play at a time.
//
// Prints the figure as `playrack-bench` reads it (`figure: {json}`, the shape of
// crates/test-support/src/figure.rs: name, unit, n, p50, p90, p99, baseline, samples). No
// threshold here (figures live in BENCHMARKS.md); it asserts only that both modes answer every
// probe. PLAYRACK_LATENCY_SAMPLES sets the samples per mode (60; the long form is 300).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, logConsole, play, waitState } from "./lib/harness.mjs";

const SAMPLES = Number(process.env.PLAYRACK_LATENCY_SAMPLES ?? 60);
const ROUNDS = 2;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Plays once in a fresh context and answers `n` probe samples (ms). */
async function probes(url, n, label) {
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, label);
  try {
    await play(page, url);
    // Let the stream settle (first key frame, decoder warm) before timing.
    await page.evaluate(() => window.playrackPlayer.probeLatency(5));
    return await page.evaluate((n) => window.playrackPlayer.probeLatency(n), n);
  } finally {
    await page.getByTestId("leave").click().catch(() => undefined);
    await waitState(page, "ended", 30_000).catch(() => undefined);
    await ctx.close();
  }
}

/** Nearest-rank percentiles, as crates/test-support/src/figure.rs computes them. */
function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p) => Number(s[Math.min(s.length, Math.max(1, Math.ceil(p * s.length))) - 1].toFixed(3));
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

test("zero playout delay against the browser's own buffering, probe by probe", async () => {
  const link = env("PLAYRACK_LINK_URL");
  const low = [];
  const buffered = [];
  const per = Math.ceil(SAMPLES / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    low.push(...(await probes(link, per, "latency-low")));
    buffered.push(...(await probes(`${link}?low_latency=0`, per, "latency-buffered")));
  }
  for (const [what, s] of [["zero playout delay", low], ["browser buffering", buffered]]) {
    assert.equal(s.length, per * ROUNDS, `${what}: every probe answered`);
    assert.ok(s.every((v) => typeof v === "number" && v >= 0 && v < 2000), `${what}: ${JSON.stringify(s)}`);
  }
  const [w, h, fps] = ["WIDTH", "HEIGHT", "FPS"].map((k) => env(`PLAYRACK_VIDEO_${k}`));
  const figure = {
    // the boards asked for whole frames (the comparison run) or slices (the default)
    name: `latency.chromium.${process.env.PLAYRACK_DEMO_VIDEO_SLICES === "0" ? "whole-frames." : ""}${w}x${h}@${fps}`,
    unit: "ms",
    ...stats(low),
    baseline: { name: "the browser's own jitter buffering", ...stats(buffered), samples: buffered },
    target: "p50 ≤ 25 ms, p99 ≤ 40 ms at 720x1280@60",
    samples: low,
  };
  console.log(`figure: ${JSON.stringify(figure)}`);
});
