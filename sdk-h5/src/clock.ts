/**
 * Time, injected: the player reads `now` and sets timers only through a {@link Clock}, so tests
 * drive it without real waiting. {@link sleep} and {@link withTimeout} honour an AbortSignal.
 */
import { PlayrackError, SdkCode } from "./errors.js";

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => (typeof performance !== "undefined" ? performance.now() : Date.now()),
  setTimeout: (f, ms) => globalThis.setTimeout(f, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The error an aborted wait rejects with. */
export function aborted(signal?: AbortSignal): PlayrackError {
  const r: unknown = signal?.reason;
  return r instanceof PlayrackError ? r : new PlayrackError(SdkCode.CANCELLED, "cancelled");
}

/** Waits `ms`; rejects early when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const onAbort = () => {
      clock.clearTimeout(h);
      reject(aborted(signal));
    };
    const h = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `p`, or a rejection with `code` after `ms`. */
export function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, code: string, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const h = clock.setTimeout(() => reject(new PlayrackError(code, `${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clock.clearTimeout(h);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(h);
        reject(e);
      },
    );
  });
}
