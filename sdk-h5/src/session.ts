/**
 * From an assigned session to a connect token: polls `GET /v1/play/sessions/{id}` until the
 * board reports the instance ready (the answer then carries the signaling URL and a
 * single-use, board-signed token) or the session ends. The same call gives a fresh token for
 * every reconnect. {@link sessionStep} is the pure decision.
 */
import { PlayrackError, SdkCode } from "./errors.js";
import { sleep, type Clock } from "./clock.js";
import type { ConnectInfo, PlaySession } from "./generated/wire.js";

export type SessionStep =
  | { kind: "wait" }
  | { kind: "connect"; connect: ConnectInfo }
  | { kind: "ended"; reason: string };

export function sessionStep(ps: PlaySession): SessionStep {
  const s = ps.session;
  if (s.state === "ended" || s.state === "ending") return { kind: "ended", reason: s.end_reason ?? "ERROR" };
  if ((s.state === "ready" || s.state === "playing") && ps.connect) return { kind: "connect", connect: ps.connect };
  return { kind: "wait" };
}

/** Thrown when the session ended while the SDK waited for it. */
export class SessionEnded extends Error {
  constructor(readonly reason: string) {
    super(`the session ended (${reason})`);
    this.name = "SessionEnded";
  }
}

export interface WaitOptions {
  clock: Clock;
  signal?: AbortSignal;
  /** Poll period. Default 400 ms. */
  intervalMs?: number;
  /** Give up after this long. Default 90 s (an install and an archive restore can take a while). */
  timeoutMs?: number;
  /** Called with every session seen (state changes). */
  onSession?: (ps: PlaySession) => void;
}

/** Polls until connect info is available. Rejects with SessionEnded, or PlayrackError. */
export async function waitForConnect(
  api: { playSession(id: string): Promise<PlaySession> },
  sessionId: string,
  o: WaitOptions,
): Promise<ConnectInfo> {
  const deadline = o.clock.now() + (o.timeoutMs ?? 90_000);
  let failures = 0;
  for (;;) {
    let ps: PlaySession | undefined;
    try {
      ps = await api.playSession(sessionId);
      failures = 0;
    } catch (e) {
      const err = e instanceof PlayrackError ? e : new PlayrackError(SdkCode.NETWORK, String(e));
      if (err.code !== SdkCode.NETWORK && (err.status ?? 0) < 500) throw err;
      if (++failures > 8) throw err;
    }
    if (ps) {
      o.onSession?.(ps);
      const step = sessionStep(ps);
      if (step.kind === "connect") return step.connect;
      if (step.kind === "ended") throw new SessionEnded(step.reason);
    }
    if (o.clock.now() >= deadline) {
      throw new PlayrackError(SdkCode.PREPARE_TIMEOUT, "the game instance did not become ready in time");
    }
    await sleep(o.clock, (o.intervalMs ?? 400) * Math.min(4, 1 + failures), o.signal);
  }
}
