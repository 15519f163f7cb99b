/**
 * The latency probe, pure: where the streamed test game draws its probe square (the same
 * geometry as `android-injector`'s `game::Layout`), how to read it (mean luma of the square's
 * central half), and the measurement loop — send `{"t":"probe","seq":i}`, time the first frame
 * whose square flipped — with frames and the clock injected.
 */
import { PlayrackError, SdkCode } from "./errors.js";

/** A rectangle in video pixels. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The probe square of a frame `width` pixels wide: x, y, side (video pixels). */
export function probeSquare(width: number): { x: number; y: number; side: number } {
  const w = Math.floor(width);
  const block = Math.max(Math.floor(w / 16), 16);
  const perRow = Math.max(Math.floor(w / block), 1);
  const stripeH = Math.ceil(32 / perRow) * block;
  const margin = Math.floor(block / 2);
  const side = Math.floor(w / 4);
  return { x: w - side - margin, y: stripeH + margin, side };
}

/** The central half of the probe square: the part H.264 does not blur at its edges. */
export function probeSampleRect(width: number): PixelRect {
  const { x, y, side } = probeSquare(width);
  const a = Math.floor(side / 4);
  const b = Math.floor((3 * side) / 4);
  return { x: x + a, y: y + a, width: b - a, height: b - a };
}

/** BT.601 luma of RGBA pixels, averaged. */
export function meanLuma(rgba: ArrayLike<number>): number {
  const n = Math.floor(rgba.length / 4);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 0.299 * rgba[4 * i]! + 0.587 * rgba[4 * i + 1]! + 0.114 * rgba[4 * i + 2]!;
  }
  return sum / n;
}

/** Lit (white) when the mean luma is at least 128, as the game's own reader decides. */
export const isLit = (luma: number) => luma >= 128;

/** A decoded frame as the probe sees it: when it was presented and whether the square is lit. */
export interface ProbeFrame {
  time: number;
  lit: boolean;
}

export interface ProbeRunOptions {
  /** How many probes, one after another. */
  count: number;
  /** Sends the probe input; returns false when it could not be sent. */
  send: (seq: number) => boolean;
  /** Resolves with the next decoded frame (rejects when the stream stops). */
  nextFrame: () => Promise<ProbeFrame>;
  now: () => number;
  /** Per probe. Default 2000 ms. */
  timeoutMs?: number;
  /** First sequence number. Default 1. */
  firstSeq?: number;
}

/**
 * Runs `count` probes and returns their latencies in ms (send → first frame showing the flip).
 * Each probe first reads the current state of the square, so a flip is always relative to what
 * was on screen when the input was sent.
 */
export async function runProbes(o: ProbeRunOptions): Promise<number[]> {
  const out: number[] = [];
  const timeout = o.timeoutMs ?? 2000;
  let seq = o.firstSeq ?? 1;
  for (let i = 0; i < o.count; i++, seq++) {
    const before = (await o.nextFrame()).lit;
    const sent = o.now();
    if (!o.send(seq)) throw new PlayrackError(SdkCode.INVALID_STATE, "the input channel is not open");
    for (;;) {
      const f = await o.nextFrame();
      if (f.lit !== before) {
        out.push(Math.max(0, f.time - sent));
        break;
      }
      if (o.now() - sent > timeout) {
        throw new PlayrackError(SdkCode.PROBE_TIMEOUT, `probe ${seq}: no flip within ${timeout} ms`);
      }
    }
  }
  return out;
}
