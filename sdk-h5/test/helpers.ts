/** Test helpers: awaiting conditions with a deadline, a fast clock, fake sockets and peers. */
import type { Clock } from "../src/clock.js";
import type { SocketLike } from "../src/signaling.js";

/** Resolves when `cond()` holds; rejects after `ms` with `what`. */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A real clock running `factor` times faster (timers fire sooner, now() advances faster). */
export function fastClock(factor = 20): Clock {
  return {
    now: () => performance.now() * factor,
    setTimeout: (f, ms) => setTimeout(f, ms / factor),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

/** A manual clock: time moves only when the test says so. */
export class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; f: () => void; id: number }[] = [];
  private nextId = 1;
  now = () => this.t;
  setTimeout = (f: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, f, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  /** Moves time forward, firing due timers in order. */
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.f();
    }
    this.t = end;
  }
  get pending() {
    return this.timers.length;
  }
}

export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(data: string) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(data);
  }
  /** Messages the client sent, parsed. */
  get messages(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
  receive(data: unknown) {
    this.onmessage?.({ data: typeof data === "string" ? data : JSON.stringify(data) });
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    this.readyState = 3;
  }
  /** The server side drops the connection. */
  drop(code = 1006) {
    this.readyState = 3;
    this.closed = true;
    this.onclose?.({ code, reason: "" });
  }
}

export class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = "connecting";
  sent: string[] = [];
  constructor(readonly label: string) {
    super();
  }
  send(data: string) {
    if (this.readyState !== "open") throw new Error("channel not open");
    this.sent.push(data);
  }
  open() {
    this.readyState = "open";
    this.dispatchEvent(new Event("open"));
  }
  close() {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.dispatchEvent(new Event("close"));
  }
  get messages(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
}

/** Enough of RTCPeerConnection for the SDK. */
export class FakePeer extends EventTarget {
  transceivers: { kind: string; direction: string }[] = [];
  channels: FakeChannel[] = [];
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  iceGatheringState: RTCIceGatheringState = "complete";
  connectionState: RTCPeerConnectionState = "new";
  remoteCandidates: unknown[] = [];
  closed = false;
  framesDecoded = 0;
  bytesReceived = 0;
  ontrack: ((ev: unknown) => void) | null = null;
  onicecandidate: ((ev: unknown) => void) | null = null;
  constructor(readonly config: RTCConfiguration) {
    super();
  }
  /** The header extensions each transceiver would offer (Chromium's default: capture time off). */
  extensions: { uri: string; direction: string }[][] = [];
  addTransceiver(kind: string, init: { direction: string }) {
    this.transceivers.push({ kind, direction: init.direction });
    const list = [
      { uri: "urn:ietf:params:rtp-hdrext:sdes:mid", direction: "sendrecv" },
      { uri: "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time", direction: "stopped" },
    ];
    this.extensions.push(list);
    return {
      getHeaderExtensionsToNegotiate: () => list.map((e) => ({ ...e })),
      setHeaderExtensionsToNegotiate: (l: { uri: string; direction: string }[]) => list.splice(0, list.length, ...l),
    };
  }
  createDataChannel(label: string) {
    const c = new FakeChannel(label);
    this.channels.push(c);
    return c;
  }
  async createOffer() {
    return { type: "offer", sdp: "v=0 offer" };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remoteDescription = d;
    this.connectionState = "connected";
    // the data channel opens once the answer is in
    queueMicrotask(() => this.channels.forEach((c) => c.open()));
  }
  async addIceCandidate(c: unknown) {
    this.remoteCandidates.push(c);
  }
  async getStats() {
    const entries = [
      { type: "inbound-rtp", kind: "video", framesDecoded: this.framesDecoded, bytesReceived: this.bytesReceived, packetsReceived: 100, packetsLost: 0, jitter: 0.004 },
      { type: "candidate-pair", id: "p1", nominated: true, state: "succeeded", currentRoundTripTime: 0.012 },
    ];
    return new Map(entries.map((e, i) => [String(i), e]));
  }
  close() {
    this.closed = true;
    this.connectionState = "closed";
  }
  /** ICE fails (network gone). */
  fail() {
    this.connectionState = "failed";
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}
