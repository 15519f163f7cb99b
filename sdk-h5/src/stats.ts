/**
 * Stream statistics, pure: folds successive `RTCPeerConnection.getStats()` reports (inbound
 * video `inbound-rtp`, the selected `candidate-pair`) and the agent's `stats` signals into what
 * `player.stats()` returns — frames decoded, fps, bitrate, RTT, jitter, loss, the last probe
 * latency and where a touch's time goes (`latency`) — and notices a frozen picture (no new
 * frame for a while). Frames that carried their capture instant (`abs-capture-time`) add
 * capture → receive and receive → shown, averaged over each interval.
 */
import type { LatencyBreakdown, PlayerStats, StreamStats } from "./generated/wire.js";

/** What `player.stats()` returns: the wire's types, shared with the native players. */
export type { LatencyBreakdown, PlayerStats };

/** One frame's timing from the capture instant it carried. */
export interface FrameTiming {
  captureToReceiveMs: number;
  receiveToShownMs: number;
}

/** What `requestVideoFrameCallback` says of a shown frame (performance-clock ms). */
export interface FrameMeta {
  rtpTimestamp?: number;
  receiveTime?: number;
  expectedDisplayTime?: number;
}

/** A `getSynchronizationSources()` entry; `captureTimestamp` is the sender's NTP-clock ms. */
export interface SourceEntry {
  rtpTimestamp?: number;
  captureTimestamp?: number;
}

/** Milliseconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_MS = 2_208_988_800_000;

/**
 * Remembers the capture instants the receiver reported, by RTP timestamp, and times a shown
 * frame against them. The receiver lists only its latest frame, which can be newer than the
 * one shown, so the last few are kept.
 */
export class CaptureTimes {
  private readonly byRtp = new Map<number, number>();

  /** Notes the receiver's sources; capture instants become Unix ms. */
  note(sources: Iterable<SourceEntry>): void {
    for (const s of sources) {
      const rtp = n(s.rtpTimestamp);
      let cap = n(s.captureTimestamp);
      if (rtp === undefined || cap === undefined || cap <= 0) continue;
      // the webrtc-extensions spec gives the sender's NTP clock; convert to the Unix epoch
      if (cap > NTP_UNIX_MS) cap -= NTP_UNIX_MS;
      this.byRtp.delete(rtp);
      this.byRtp.set(rtp, cap);
      if (this.byRtp.size > 32) this.byRtp.delete(this.byRtp.keys().next().value as number);
    }
  }

  /**
   * The shown frame's timing, when its capture instant is known. `unixMinusPerf` turns the
   * performance clock into Unix ms (Date.now() − performance.now()).
   */
  timing(meta: FrameMeta | undefined, unixMinusPerf: number): FrameTiming | undefined {
    const rtp = n(meta?.rtpTimestamp);
    const received = n(meta?.receiveTime);
    const shown = n(meta?.expectedDisplayTime);
    if (rtp === undefined || received === undefined || shown === undefined) return undefined;
    const cap = this.byRtp.get(rtp);
    if (cap === undefined) return undefined;
    return { captureToReceiveMs: received + unixMinusPerf - cap, receiveToShownMs: shown - received };
  }
}

/** One entry of an RTCStatsReport, loosely typed (browsers differ). */
export type StatsEntry = { type: string; [k: string]: unknown };

interface Sample {
  time: number;
  framesDecoded: number;
  bytes: number;
  packetsReceived: number;
  packetsLost: number;
  /** Cumulative seconds (inbound-rtp `totalDecodeTime`, `jitterBufferDelay`). */
  decodeSecs: number;
  jitterSecs: number;
  jitterEmitted: number;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

const n = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export class StatsTracker {
  private prev: Sample | undefined;
  private current: PlayerStats = { framesDecoded: 0, fps: 0, bitrateKbps: 0, rttMs: 0, jitterMs: 0, loss: 0 };
  private lastFrameAt: number | undefined;
  /** Frame timings since the last report: sums and count. */
  private timed = { captureToReceive: 0, receiveToShown: 0, n: 0 };
  /** The last interval's averages. */
  private timing: FrameTiming | undefined;

  /** Folds one getStats() report taken at `time` (ms). */
  addReport(entries: Iterable<StatsEntry>, time: number): PlayerStats {
    let video: StatsEntry | undefined;
    let pair: StatsEntry | undefined;
    let selectedPairId: string | undefined;
    const pairs = new Map<string, StatsEntry>();
    for (const e of entries) {
      if (e.type === "inbound-rtp" && (e.kind === "video" || e.mediaType === "video")) video = e;
      else if (e.type === "candidate-pair") {
        pairs.set(String(e.id), e);
        if (e.selected === true || (e.nominated === true && e.state === "succeeded" && !pair)) pair = e;
      } else if (e.type === "transport" && typeof e.selectedCandidatePairId === "string") {
        selectedPairId = e.selectedCandidatePairId;
      }
    }
    if (selectedPairId && pairs.has(selectedPairId)) pair = pairs.get(selectedPairId);
    const s = { ...this.current };
    if (pair) {
      const rtt = n(pair.currentRoundTripTime);
      if (rtt !== undefined) s.rttMs = Math.round(rtt * 1000);
    }
    if (video) {
      const sample: Sample = {
        time,
        framesDecoded: n(video.framesDecoded) ?? 0,
        bytes: n(video.bytesReceived) ?? 0,
        packetsReceived: n(video.packetsReceived) ?? 0,
        packetsLost: n(video.packetsLost) ?? 0,
        decodeSecs: n(video.totalDecodeTime) ?? 0,
        jitterSecs: n(video.jitterBufferDelay) ?? 0,
        jitterEmitted: n(video.jitterBufferEmittedCount) ?? 0,
      };
      s.framesDecoded = sample.framesDecoded;
      const jitter = n(video.jitter);
      if (jitter !== undefined) s.jitterMs = Math.round(jitter * 1000 * 10) / 10;
      const w = n(video.frameWidth);
      const h = n(video.frameHeight);
      if (w && h) {
        s.width = w;
        s.height = h;
      }
      const p = this.prev;
      if (p && time > p.time) {
        const dt = (time - p.time) / 1000;
        s.fps = Math.round((Math.max(0, sample.framesDecoded - p.framesDecoded) / dt) * 10) / 10;
        s.bitrateKbps = Math.round((Math.max(0, sample.bytes - p.bytes) * 8) / 1000 / dt);
        const got = Math.max(0, sample.packetsReceived - p.packetsReceived);
        const lost = Math.max(0, sample.packetsLost - p.packetsLost);
        s.loss = got + lost > 0 ? Math.round((lost / (got + lost)) * 1000) / 1000 : 0;
        const frames = sample.framesDecoded - p.framesDecoded;
        const t = this.timed;
        this.timing = t.n > 0 ? { captureToReceiveMs: t.captureToReceive / t.n, receiveToShownMs: t.receiveToShown / t.n } : undefined;
        this.timed = { captureToReceive: 0, receiveToShown: 0, n: 0 };
        const emitted = sample.jitterEmitted - p.jitterEmitted;
        if (frames > 0) {
          s.latency = this.breakdown(
            s,
            ((sample.decodeSecs - p.decodeSecs) / frames) * 1000,
            emitted > 0 ? ((sample.jitterSecs - p.jitterSecs) / emitted) * 1000 : 0,
          );
        }
      }
      if (sample.framesDecoded > (p?.framesDecoded ?? 0)) this.lastFrameAt = time;
      this.prev = sample;
    }
    this.current = s;
    return this.get();
  }

  /** Folds the agent's report; its RTT and loss fill in what the browser did not measure. */
  addAgentStats(a: StreamStats): void {
    this.current.agent = a;
    if (!this.current.rttMs && a.rtt_ms) this.current.rttMs = a.rtt_ms;
    if (!this.prev) this.current.loss = a.loss;
  }

  /** A frame was shown (requestVideoFrameCallback), at `time`. */
  frameShown(time: number): void {
    this.lastFrameAt = time;
  }

  /**
   * A shown frame's capture → receive and receive → shown (ms). Values out of reason (clocks
   * far apart, or a frame older than 10 s) are dropped rather than averaged.
   */
  frameTimed(t: FrameTiming): void {
    const ok = (v: number) => Number.isFinite(v) && v >= -50 && v < 10_000;
    if (!ok(t.captureToReceiveMs) || !ok(t.receiveToShownMs)) return;
    this.timed.captureToReceive += Math.max(0, t.captureToReceiveMs);
    this.timed.receiveToShown += Math.max(0, t.receiveToShownMs);
    this.timed.n += 1;
  }

  setLastProbe(ms: number): void {
    this.current.lastInputToFrameMs = ms;
    const l = this.current.latency;
    if (l) this.current.latency = this.breakdown(this.current, l.decodeMs, l.jitterBufferMs);
  }

  private breakdown(s: PlayerStats, decodeMs: number, jitterBufferMs: number): LatencyBreakdown {
    const networkMs = s.rttMs / 2;
    const halfFrame = s.fps > 0 ? 500 / s.fps : 0;
    const b: LatencyBreakdown = {
      networkMs: round1(networkMs),
      jitterBufferMs: round1(Math.max(0, jitterBufferMs)),
      decodeMs: round1(Math.max(0, decodeMs)),
      estimatedMs: round1(s.rttMs + Math.max(0, jitterBufferMs) + Math.max(0, decodeMs) + halfFrame),
    };
    const t = this.timing;
    if (t) {
      b.captureToReceiveMs = round1(t.captureToReceiveMs);
      b.receiveToShownMs = round1(t.receiveToShownMs);
      b.captureToShownMs = round1(t.captureToReceiveMs + t.receiveToShownMs);
      b.estimatedMs = round1(networkMs + halfFrame + b.captureToShownMs);
    }
    const probe = s.lastInputToFrameMs;
    if (probe !== undefined) {
      b.touchToScreenMs = probe;
      b.deviceAndAgentMs = round1(Math.max(0, probe - s.rttMs - b.jitterBufferMs - b.decodeMs));
    }
    return b;
  }

  /** Milliseconds since the last decoded frame, or undefined before the first. */
  sinceLastFrame(time: number): number | undefined {
    return this.lastFrameAt === undefined ? undefined : time - this.lastFrameAt;
  }

  /** The picture is frozen: frames came, then none for `thresholdMs`. */
  frozen(time: number, thresholdMs = 2000): boolean {
    const since = this.sinceLastFrame(time);
    return since !== undefined && since > thresholdMs;
  }

  /** Forgets the frame history (after a reconnect the counters restart). */
  resetCounters(): void {
    this.prev = undefined;
    this.timed = { captureToReceive: 0, receiveToShown: 0, n: 0 };
    this.timing = undefined;
    this.lastFrameAt = undefined;
  }

  get(): PlayerStats {
    return { ...this.current };
  }
}
