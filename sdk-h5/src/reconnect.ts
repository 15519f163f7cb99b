/**
 * Reconnect decisions, pure: after the signaling socket or ICE drops while the session is
 * live, the player retries with a fresh token (tokens are single use) after an exponential
 * backoff with jitter, until the grace window since the drop runs out. Some failures are
 * final (the session ended, the agent refused the player for a reason a retry cannot fix).
 */

export interface ReconnectPolicy {
  /** How long after a drop reconnecting may go on. Default 30 s. */
  graceMs: number;
  /** First delay. Default 250 ms. */
  baseMs: number;
  /** Longest delay. Default 5 s. */
  maxMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = { graceMs: 30_000, baseMs: 250, maxMs: 5_000 };

/** Refusals a new attempt cannot fix. */
const FINAL_CODES = new Set(["ROLE_NOT_ALLOWED", "TOKEN_WRONG_BOARD", "NOT_FOUND", "SESSION_NOT_FOUND", "ENDED"]);

export type ReconnectDecision = { kind: "retry"; delayMs: number } | { kind: "give-up"; why: string };

/**
 * What to do after failed attempt number `attempt` (0 = the drop itself), `elapsedMs` after the
 * drop, given the failure's code (if any). `random` is 0..1 (injected for tests).
 */
export function decideReconnect(
  p: ReconnectPolicy,
  attempt: number,
  elapsedMs: number,
  code: string | undefined,
  random: number,
): ReconnectDecision {
  if (code !== undefined && FINAL_CODES.has(code)) return { kind: "give-up", why: code };
  const exp = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, attempt));
  // ±20 % so a room's players do not all come back in the same millisecond
  const delayMs = Math.round(exp * (0.8 + 0.4 * Math.min(1, Math.max(0, random))));
  if (elapsedMs + delayMs > p.graceMs) return { kind: "give-up", why: "GRACE_EXPIRED" };
  return { kind: "retry", delayMs };
}
