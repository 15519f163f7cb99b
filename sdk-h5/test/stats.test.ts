import { test } from "node:test";
import assert from "node:assert/strict";
import { StatsTracker, type StatsEntry } from "../src/stats.js";

const report = (frames: number, bytes: number, received: number, lost: number, rtt = 0.02): StatsEntry[] => [
  { type: "inbound-rtp", kind: "audio", framesDecoded: 0, bytesReceived: 999_999 },
  {
    type: "inbound-rtp",
    kind: "video",
    framesDecoded: frames,
    bytesReceived: bytes,
    packetsReceived: received,
    packetsLost: lost,
    jitter: 0.0035,
    frameWidth: 720,
    frameHeight: 1280,
  },
  { type: "candidate-pair", id: "a", state: "failed", currentRoundTripTime: 9 },
  { type: "candidate-pair", id: "b", state: "succeeded", nominated: true, currentRoundTripTime: rtt },
  { type: "transport", selectedCandidatePairId: "b" },
];

test("fps, bitrate, loss come from deltas between reports; rtt from the selected pair", () => {
  const t = new StatsTracker();
  const first = t.addReport(report(100, 1_000_000, 1000, 0), 10_000);
  assert.equal(first.framesDecoded, 100);
  assert.equal(first.fps, 0, "no rate from a single report");
  assert.equal(first.rttMs, 20);
  assert.equal(first.jitterMs, 3.5);
  const s = t.addReport(report(160, 1_250_000, 1190, 10), 11_000);
  assert.equal(s.fps, 60);
  assert.equal(s.bitrateKbps, 2000);
  assert.equal(s.loss, 0.05);
  assert.equal(s.width, 720);
  assert.equal(s.height, 1280);
});

test("the agent's figures fill gaps; the probe result is kept", () => {
  const t = new StatsTracker();
  t.addAgentStats({ bitrate_kbps: 3000, fps: 30, rtt_ms: 33, loss: 0.01, width: 720, height: 1280 });
  t.setLastProbe(87);
  const s = t.get();
  assert.equal(s.rttMs, 33);
  assert.equal(s.loss, 0.01);
  assert.equal(s.lastInputToFrameMs, 87);
  assert.equal(s.agent?.fps, 30);
});

test("a picture is frozen only after frames came and then stopped", () => {
  const t = new StatsTracker();
  assert.equal(t.frozen(100_000), false, "nothing decoded yet is not a freeze");
  t.addReport(report(10, 1, 1, 0), 1000);
  t.addReport(report(10, 1, 1, 0), 2000);
  assert.equal(t.frozen(2500), false);
  assert.equal(t.frozen(3100), true);
  t.frameShown(3200);
  assert.equal(t.frozen(3300), false);
  t.resetCounters();
  assert.equal(t.frozen(100_000), false);
});

test("the latency breakdown splits a probe into network, jitter buffer, decode and the rest", () => {
  const at = (frames: number, decode: number, jitter: number, emitted: number): StatsEntry[] => {
    const r = report(frames, frames * 1000, frames * 2, 0, 0.01);
    Object.assign(r[1]!, { totalDecodeTime: decode, jitterBufferDelay: jitter, jitterBufferEmittedCount: emitted });
    return r;
  };
  const t = new StatsTracker();
  assert.equal(t.addReport(at(100, 0.2, 0.5, 100), 10_000).latency, undefined, "no rates from one report");
  // 60 frames in a second: 3 ms decode and 4 ms in the jitter buffer each; rtt 10 ms
  const s = t.addReport(at(160, 0.38, 0.74, 160), 11_000);
  assert.deepEqual(s.latency, { networkMs: 5, jitterBufferMs: 4, decodeMs: 3, estimatedMs: 10 + 4 + 3 + 8.3 });
  t.setLastProbe(40);
  const l = t.get().latency!;
  assert.equal(l.touchToScreenMs, 40);
  assert.equal(l.deviceAndAgentMs, 40 - 10 - 4 - 3);
  // a probe faster than the parts (clock noise) leaves nothing negative
  t.setLastProbe(5);
  assert.equal(t.get().latency!.deviceAndAgentMs, 0);
});
