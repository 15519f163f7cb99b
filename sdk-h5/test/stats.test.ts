import { test } from "node:test";
import assert from "node:assert/strict";
import { CaptureTimes, StatsTracker, type StatsEntry } from "../src/stats.js";

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

test("capture instants turn shown frames into capture → receive → shown", () => {
  const c = new CaptureTimes();
  const unixMinusPerf = 1_800_000_000_000;
  // the receiver lists its latest frame; the shown one may be a little older
  c.note([{ rtpTimestamp: 9000, captureTimestamp: 2_208_988_800_000 + unixMinusPerf + 1000 }]);
  c.note([{ rtpTimestamp: 10_500, captureTimestamp: 2_208_988_800_000 + unixMinusPerf + 1016 }, { rtpTimestamp: 1 }]);
  const t = c.timing({ rtpTimestamp: 9000, receiveTime: 1012, expectedDisplayTime: 1020 }, unixMinusPerf);
  assert.deepEqual(t, { captureToReceiveMs: 12, receiveToShownMs: 8 });
  assert.equal(c.timing({ rtpTimestamp: 1, receiveTime: 1, expectedDisplayTime: 2 }, unixMinusPerf), undefined, "no capture instant");
  assert.equal(c.timing({ rtpTimestamp: 9000 }, unixMinusPerf), undefined, "no receive time (not WebRTC)");
  assert.equal(c.timing(undefined, unixMinusPerf), undefined);
  // a Unix-epoch capture instant (no NTP offset) is taken as it is
  c.note([{ rtpTimestamp: 7, captureTimestamp: unixMinusPerf + 500 }]);
  assert.deepEqual(c.timing({ rtpTimestamp: 7, receiveTime: 505, expectedDisplayTime: 506 }, unixMinusPerf), {
    captureToReceiveMs: 5,
    receiveToShownMs: 1,
  });
  // only the last 32 frames are remembered
  for (let i = 0; i < 40; i++) c.note([{ rtpTimestamp: 100_000 + i, captureTimestamp: unixMinusPerf + i }]);
  assert.equal(c.timing({ rtpTimestamp: 7, receiveTime: 505, expectedDisplayTime: 506 }, unixMinusPerf), undefined);
  assert.ok(c.timing({ rtpTimestamp: 100_039, receiveTime: 50, expectedDisplayTime: 60 }, unixMinusPerf));
});

test("the breakdown averages frame timings per interval and estimates touch-to-screen from them", () => {
  const t = new StatsTracker();
  t.addReport(report(100, 1_000_000, 1000, 0, 0.01), 10_000);
  t.frameTimed({ captureToReceiveMs: 10, receiveToShownMs: 6 });
  t.frameTimed({ captureToReceiveMs: 14, receiveToShownMs: 10 });
  t.frameTimed({ captureToReceiveMs: 1e9, receiveToShownMs: 1 }); // clocks apart: dropped
  const s = t.addReport(report(160, 1_250_000, 1190, 0, 0.01), 11_000);
  assert.equal(s.latency?.captureToReceiveMs, 12);
  assert.equal(s.latency?.receiveToShownMs, 8);
  assert.equal(s.latency?.captureToShownMs, 20);
  // half the 10 ms round trip up, half a 60 fps frame waiting for the game, then capture → shown
  assert.equal(s.latency?.estimatedMs, 5 + 8.3 + 20);
  // an interval without timed frames has none
  const next = t.addReport(report(220, 1_500_000, 1300, 0, 0.01), 12_000);
  assert.equal(next.latency?.captureToShownMs, undefined);
  assert.equal(next.latency?.estimatedMs, 10 + 8.3);
});
