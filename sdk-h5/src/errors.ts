/**
 * The one error type the SDK raises and reports: a stable `code` (the controller's problem
 * codes such as `LINK_EXPIRED`, the agent's refusal codes such as `TOKEN_EXPIRED`, or the
 * SDK's own, listed in {@link SdkCode}) and a sentence for people.
 */
export class PlayrackError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, for errors the controller answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "PlayrackError";
  }
}

/** Codes the SDK itself produces. */
export const SdkCode = {
  /** The controller (or a board) could not be reached. */
  NETWORK: "NETWORK",
  /** An answer that is not what the wire types say (bad JSON, wrong shape). */
  BAD_RESPONSE: "BAD_RESPONSE",
  /** A signaling message from the agent that is not an AgentSignal. */
  BAD_SIGNAL: "BAD_SIGNAL",
  /** The session did not become ready in time. */
  PREPARE_TIMEOUT: "PREPARE_TIMEOUT",
  /** The connection dropped and could not be re-established within the grace window. */
  CONNECTION_LOST: "CONNECTION_LOST",
  /** WebRTC negotiation failed. */
  WEBRTC_FAILED: "WEBRTC_FAILED",
  /** The queue ticket ended without a session (cancelled, evicted, expired). */
  TICKET_ENDED: "TICKET_ENDED",
  /** The player cancelled. */
  CANCELLED: "CANCELLED",
  /** A method was called in a state that does not allow it. */
  INVALID_STATE: "INVALID_STATE",
  /** A latency probe saw no flip in time. */
  PROBE_TIMEOUT: "PROBE_TIMEOUT",
} as const;

/** Turns anything thrown into a PlayrackError. */
export function asPlayrackError(e: unknown, fallbackCode: string = SdkCode.NETWORK): PlayrackError {
  if (e instanceof PlayrackError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new PlayrackError(fallbackCode, message);
}
