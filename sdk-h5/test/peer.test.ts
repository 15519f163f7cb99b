import { test } from "node:test";
import assert from "node:assert/strict";
import { ABS_CAPTURE_TIME, askCaptureTime, negotiate, withoutPlayoutDelay, zeroPlayoutDelay } from "../src/peer.js";
import type { Signaling } from "../src/signaling.js";
import { FakePeer, fastClock } from "./helpers.js";

test("a received track's receiver is asked for no playout delay", async () => {
  let peer: FakePeer | undefined;
  const sent: unknown[] = [];
  const signaling = { send: (m: unknown) => (sent.push(m), true) } as unknown as Signaling;
  const { pc } = await negotiate(
    (config) => {
      peer = new FakePeer(config);
      return peer as unknown as RTCPeerConnection;
    },
    signaling,
    [],
    { clock: fastClock(), answer: Promise.resolve("v=0 answer"), onStream: () => undefined },
  );
  assert.equal(pc as unknown, peer);
  assert.equal((sent[0] as { type: string }).type, "offer");
  const video = { jitterBufferTarget: null as number | null, playoutDelayHint: null as number | null };
  peer!.ontrack!({ track: { kind: "video" }, streams: [], receiver: video });
  assert.deepEqual(video, { jitterBufferTarget: 0, playoutDelayHint: 0 });
});

test("a receiver without the knobs, or refusing the value, is left as it is", () => {
  const bare = {};
  zeroPlayoutDelay(bare as RTCRtpReceiver);
  assert.deepEqual(bare, {});
  const refusing = {
    get jitterBufferTarget() {
      return 80;
    },
    set jitterBufferTarget(_v: number) {
      throw new RangeError("out of range");
    },
  };
  zeroPlayoutDelay(refusing as unknown as RTCRtpReceiver);
  assert.equal(refusing.jitterBufferTarget, 80);
  zeroPlayoutDelay(undefined);
});

const OFFER = [
  "v=0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=extmap:12 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
  "a=extmap:13/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
  "a=recvonly",
  "",
].join("\r\n");

test("without low latency the offer drops playout-delay and receivers keep their buffering", async () => {
  assert.equal(
    withoutPlayoutDelay(OFFER),
    ["v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid", "a=recvonly", ""].join("\r\n"),
  );
  for (const lowLatency of [true, false]) {
    let peer: FakePeer | undefined;
    const sent: { type: string; sdp?: string }[] = [];
    const signaling = { send: (m: { type: string }) => (sent.push(m), true) } as unknown as Signaling;
    await negotiate(
      (config) => {
        peer = new FakePeer(config);
        peer.createOffer = async () => ({ type: "offer", sdp: OFFER });
        return peer as unknown as RTCPeerConnection;
      },
      signaling,
      [],
      { clock: fastClock(), answer: Promise.resolve("v=0 answer"), onStream: () => undefined, lowLatency },
    );
    assert.equal(sent[0]!.sdp!.includes("playout-delay"), lowLatency, `lowLatency ${lowLatency}`);
    const receiver = { jitterBufferTarget: null as number | null };
    peer!.ontrack!({ track: { kind: "video" }, streams: [], receiver });
    assert.equal(receiver.jitterBufferTarget, lowLatency ? 0 : null);
  }
});

test("the video asks for capture times (abs-capture-time, receive only); audio does not", async () => {
  let peer: FakePeer | undefined;
  const signaling = { send: () => true } as unknown as Signaling;
  await negotiate(
    (config) => {
      peer = new FakePeer(config);
      return peer as unknown as RTCPeerConnection;
    },
    signaling,
    [],
    { clock: fastClock(), answer: Promise.resolve("v=0 answer"), onStream: () => undefined },
  );
  const [video, audio] = peer!.extensions;
  assert.equal(video!.find((e) => e.uri === ABS_CAPTURE_TIME)?.direction, "recvonly");
  assert.equal(video!.find((e) => e.uri.endsWith("sdes:mid"))?.direction, "sendrecv", "the rest as they were");
  assert.equal(audio!.find((e) => e.uri === ABS_CAPTURE_TIME)?.direction, "stopped");
  // a browser that cannot negotiate extensions, or has no such one, keeps its own list
  assert.equal(askCaptureTime(undefined), false);
  assert.equal(askCaptureTime({} as RTCRtpTransceiver), false);
  const none = { getHeaderExtensionsToNegotiate: () => [], setHeaderExtensionsToNegotiate: () => assert.fail("not set") };
  assert.equal(askCaptureTime(none as unknown as RTCRtpTransceiver), false);
});
