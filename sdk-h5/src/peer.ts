/**
 * The WebRTC side of a connection: a receive-only peer (video + audio) with the `input`
 * DataChannel, offered to the agent over signaling. The agent is ICE-lite and puts its
 * candidate in the answer; the SDK sends its offer once ICE gathering completes (or after a
 * short wait, trickling later candidates as `candidate` signals). The peer-connection
 * constructor is injected. Each received track's receiver is asked to hold nothing back in its
 * jitter buffer (the agent's RTP says the same with the `playout-delay` extension, 0–0), and the
 * video asks for the `abs-capture-time` extension (each frame's capture instant, which browsers
 * do not negotiate unless asked) so that `stats()` can time capture → screen.
 */
import { PlayrackError, SdkCode } from "./errors.js";
import { withTimeout, type Clock } from "./clock.js";
import type { IceServer } from "./generated/wire.js";
import type { Signaling } from "./signaling.js";

export type PeerFactory = (config: RTCConfiguration) => RTCPeerConnection;

export interface Negotiated {
  pc: RTCPeerConnection;
  input: RTCDataChannel;
  /** Sensor and location readings: unordered and never retransmitted (a late one is stale). */
  sensors: RTCDataChannel;
}

export interface NegotiateOptions {
  clock: Clock;
  /** How long to wait for ICE gathering before offering anyway. Default 1000 ms. */
  gatherMs?: number;
  /** How long to wait for the answer. Default 10 s. */
  answerMs?: number;
  /** The agent's answer SDP (the caller routes the `answer` signal here). */
  answer: Promise<string>;
  /** Called when remote tracks arrive. */
  onStream: (stream: MediaStream) => void;
  /**
   * Zero playout delay (default true): receivers get jitter-buffer target 0 and the offer keeps
   * the `playout-delay` extension, which the agent then sends as 0–0. `false` removes the
   * extension from the offer and leaves the receivers as the browser has them.
   */
  lowLatency?: boolean;
}

/** The offer's `playout-delay` header-extension line (the agent maps it when offered). */
const PLAYOUT_DELAY_EXTMAP = /^a=extmap:\d+(?:\/\w+)? http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r?\n/gm;

/** `sdp` without the `playout-delay` extension: the answer then cannot map it. */
export function withoutPlayoutDelay(sdp: string): string {
  return sdp.replace(PLAYOUT_DELAY_EXTMAP, "");
}

/** The `abs-capture-time` header extension's URI. */
export const ABS_CAPTURE_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

/** A header extension as `getHeaderExtensionsToNegotiate` lists it (Chromium 117+). */
type HeaderExtension = { uri: string; direction: string };
type NegotiatingTransceiver = {
  getHeaderExtensionsToNegotiate?: () => HeaderExtension[];
  setHeaderExtensionsToNegotiate?: (e: HeaderExtension[]) => void;
};

/**
 * Asks the offer of `t` to carry `abs-capture-time` (receive only). True when the browser can
 * negotiate header extensions and lists that one; a browser that cannot keeps its own list.
 */
export function askCaptureTime(t: RTCRtpTransceiver | undefined): boolean {
  const n = t as unknown as NegotiatingTransceiver | undefined;
  if (!n || typeof n.getHeaderExtensionsToNegotiate !== "function" || typeof n.setHeaderExtensionsToNegotiate !== "function") {
    return false;
  }
  try {
    const all = n.getHeaderExtensionsToNegotiate();
    const abs = all.find((e) => e.uri === ABS_CAPTURE_TIME);
    if (!abs) return false;
    abs.direction = "recvonly";
    n.setHeaderExtensionsToNegotiate(all);
    return true;
  } catch {
    return false;
  }
}

/** The receiver's latency knobs, where the browser has them. */
type TunableReceiver = {
  /** Milliseconds; the standard (Chromium 114+, Firefox, Safari). */
  jitterBufferTarget?: number | null;
  /** Seconds; Chromium's older, non-standard knob. */
  playoutDelayHint?: number | null;
};

/** Asks `receiver` to play each frame as soon as it is decoded: jitter-buffer target 0. A
 * browser that has neither knob, or refuses the value, keeps its default. */
export function zeroPlayoutDelay(receiver: RTCRtpReceiver | undefined): void {
  if (!receiver) return;
  const r = receiver as unknown as TunableReceiver;
  for (const knob of ["jitterBufferTarget", "playoutDelayHint"] as const) {
    if (knob in r) {
      try {
        r[knob] = 0;
      } catch {
        // out of the browser's range: its default stands
      }
    }
  }
}

/** Feeds an agent `candidate` signal to a peer (the agent's candidates have no mid: bundled). */
export function addRemoteCandidate(pc: RTCPeerConnection, candidate: string): void {
  pc.addIceCandidate({ candidate, sdpMLineIndex: 0 }).catch(() => undefined);
}

export function rtcIceServers(servers: IceServer[]): RTCIceServer[] {
  return servers.map((s) => {
    const out: RTCIceServer = { urls: s.urls };
    if (s.username) out.username = s.username;
    if (s.credential) out.credential = s.credential;
    return out;
  });
}

/** Creates the peer, sends the offer and applies the answer. */
export async function negotiate(
  factory: PeerFactory,
  signaling: Signaling,
  iceServers: IceServer[],
  o: NegotiateOptions,
): Promise<Negotiated> {
  const pc = factory({ iceServers: rtcIceServers(iceServers), bundlePolicy: "max-bundle" });
  askCaptureTime(pc.addTransceiver("video", { direction: "recvonly" }));
  pc.addTransceiver("audio", { direction: "recvonly" });
  const input = pc.createDataChannel("input", { ordered: true });
  const sensors = pc.createDataChannel("sensors", { ordered: false, maxRetransmits: 0 });
  // One stream for every track: the board may announce video and audio in two streams (two
  // msid stream ids), and the <video> must hold both, not whichever track came last.
  let stream: MediaStream | undefined;
  const lowLatency = o.lowLatency !== false;
  pc.ontrack = (ev: RTCTrackEvent) => {
    if (lowLatency) zeroPlayoutDelay(ev.receiver);
    stream ??= typeof MediaStream === "function" ? new MediaStream() : ev.streams[0];
    if (!stream) return;
    if (!stream.getTracks().includes(ev.track)) stream.addTrack(ev.track);
    o.onStream(stream);
  };
  let offered = false;
  pc.onicecandidate = (ev: RTCPeerConnectionIceEvent) => {
    // after the offer went out, trickle what gathering still finds
    if (offered && ev.candidate && ev.candidate.candidate) {
      signaling.send({ type: "candidate", candidate: ev.candidate.candidate, sdp_mid: ev.candidate.sdpMid ?? null });
    }
  };
  try {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await gathered(pc, o.clock, o.gatherMs ?? 1000);
    const local = pc.localDescription?.sdp ?? offer.sdp ?? "";
    const sdp = lowLatency ? local : withoutPlayoutDelay(local);
    offered = true;
    if (!signaling.send({ type: "offer", sdp })) throw new PlayrackError(SdkCode.NETWORK, "signaling closed before the offer");
    const remote = await withTimeout(o.clock, o.answer, o.answerMs ?? 10_000, SdkCode.WEBRTC_FAILED, "answer");
    await pc.setRemoteDescription({ type: "answer", sdp: remote });
  } catch (e) {
    pc.close();
    if (e instanceof PlayrackError) throw e;
    throw new PlayrackError(SdkCode.WEBRTC_FAILED, `negotiation failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { pc, input, sensors };
}

/** Resolves when ICE gathering completes, or after `ms`. */
function gathered(pc: RTCPeerConnection, clock: Clock, ms: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimeout(h);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const h = clock.setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}
