import { test } from "node:test";
import assert from "node:assert/strict";
import { isLit, meanLuma, probeSampleRect, probeSquare, runProbes, type ProbeFrame } from "../src/probe.js";
import { PlayrackError } from "../src/errors.js";

test("the probe square sits where the test game draws it", () => {
  // 720 wide (the default display): block 45, 16 per row, stripe 90, margin 22, side 180
  assert.deepEqual(probeSquare(720), { x: 518, y: 112, side: 180 });
  // 1280 wide: block 80, stripe 160, margin 40, side 320
  assert.deepEqual(probeSquare(1280), { x: 920, y: 200, side: 320 });
  // narrow frames keep 16 px blocks and a taller stripe: 200 wide → 12 per row, 3 rows
  assert.deepEqual(probeSquare(200), { x: 200 - 50 - 8, y: 48 + 8, side: 50 });
  // the sampled part is the square's central half
  assert.deepEqual(probeSampleRect(720), { x: 518 + 45, y: 112 + 45, width: 90, height: 90 });
  assert.deepEqual(probeSampleRect(200), { x: 142 + 12, y: 56 + 12, width: 25, height: 25 });
});

test("luma decides lit or dark", () => {
  const white = new Uint8ClampedArray(16 * 4).fill(255);
  const black = new Uint8ClampedArray(16 * 4).fill(0);
  assert.equal(isLit(meanLuma(white)), true);
  assert.equal(isLit(meanLuma(black)), false);
  // pure blue has low luma
  const blue = new Uint8ClampedArray([0, 0, 255, 255]);
  assert.equal(isLit(meanLuma(blue)), false);
});

/** A fake stream: a frame every 10 ms; the square flips `delay` ms after a probe arrives. */
function fakeStream(delay: number, opts: { ignore?: boolean } = {}) {
  let t = 0;
  let lit = false;
  let flipAt: number | undefined;
  const sent: number[] = [];
  return {
    sent,
    now: () => t,
    send: (seq: number) => {
      sent.push(seq);
      if (!opts.ignore) flipAt = t + delay;
      return true;
    },
    nextFrame: async (): Promise<ProbeFrame> => {
      t += 10;
      if (flipAt !== undefined && t >= flipAt) {
        lit = !lit;
        flipAt = undefined;
      }
      return { time: t, lit };
    },
  };
}

test("runProbes times each flip, sequentially, with increasing seq", async () => {
  const s = fakeStream(45);
  const samples = await runProbes({ count: 3, send: s.send, nextFrame: s.nextFrame, now: s.now, firstSeq: 7 });
  assert.deepEqual(s.sent, [7, 8, 9]);
  // sent at a frame boundary; the flip shows on the first frame ≥ 45 ms later
  assert.deepEqual(samples, [50, 50, 50]);
});

test("a probe that never flips times out with PROBE_TIMEOUT", async () => {
  const s = fakeStream(0, { ignore: true });
  await assert.rejects(
    runProbes({ count: 1, send: s.send, nextFrame: s.nextFrame, now: s.now, timeoutMs: 200 }),
    (e: unknown) => e instanceof PlayrackError && e.code === "PROBE_TIMEOUT",
  );
});

test("a closed input channel is an error, not a hang", async () => {
  const s = fakeStream(10);
  await assert.rejects(
    runProbes({ count: 1, send: () => false, nextFrame: s.nextFrame, now: s.now }),
    (e: unknown) => e instanceof PlayrackError && e.code === "INVALID_STATE",
  );
});
