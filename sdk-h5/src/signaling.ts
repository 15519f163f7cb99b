/**
 * The signaling WebSocket to the board's agent: `hello {token, role}` → `welcome
 * {ice_servers}`, then `offer`/`answer`, candidates, `stats`, `notice`, `ended`, `error`.
 * Every agent message is checked against the wire types by {@link parseAgentSignal}; a
 * malformed one is reported (never thrown into the page). The WebSocket is injected.
 */
import { isRecord } from "./api.js";
import { PlayrackError, SdkCode } from "./errors.js";
import {
  MAX_SIGNALING_MESSAGE_BYTES,
  type AgentSignal,
  type AgentSignalWelcome,
  type ClientSignal,
  type StreamStats,
} from "./generated/wire.js";

export type Parsed = { ok: true; signal: AgentSignal } | { ok: false; error: string };

const str = (v: unknown): v is string => typeof v === "string";
const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function isStreamStats(v: unknown): v is StreamStats {
  return (
    isRecord(v) &&
    num(v.bitrate_kbps) &&
    num(v.fps) &&
    num(v.rtt_ms) &&
    num(v.loss) &&
    num(v.width) &&
    num(v.height)
  );
}

/** Parses one agent → client message; never throws. */
export function parseAgentSignal(data: unknown): Parsed {
  if (!str(data)) return { ok: false, error: "a binary signaling message" };
  if (data.length > MAX_SIGNALING_MESSAGE_BYTES) return { ok: false, error: `a signaling message of ${data.length} bytes` };
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return { ok: false, error: `not JSON: ${data.slice(0, 80)}` };
  }
  if (!isRecord(v)) return { ok: false, error: "not a JSON object" };
  const bad = (what: string): Parsed => ({ ok: false, error: `malformed \`${String(v.type)}\` signal: ${what}` });
  switch (v.type) {
    case "welcome":
      if (!str(v.session_id)) return bad("session_id");
      if (
        !Array.isArray(v.ice_servers) ||
        !v.ice_servers.every((s) => isRecord(s) && Array.isArray(s.urls) && s.urls.every(str))
      )
        return bad("ice_servers");
      return { ok: true, signal: v as unknown as AgentSignal };
    case "answer":
      return str(v.sdp) ? { ok: true, signal: v as unknown as AgentSignal } : bad("sdp");
    case "candidate":
      return str(v.candidate) ? { ok: true, signal: v as unknown as AgentSignal } : bad("candidate");
    case "stats":
      return isStreamStats(v.stats) ? { ok: true, signal: v as unknown as AgentSignal } : bad("stats");
    case "clipboard":
      return str(v.text) ? { ok: true, signal: v as unknown as AgentSignal } : bad("text");
    case "custom":
      return str(v.data) ? { ok: true, signal: v as unknown as AgentSignal } : bad("data");
    case "notice":
    case "error":
      return str(v.code) && str(v.message) ? { ok: true, signal: v as unknown as AgentSignal } : bad("code/message");
    case "ended":
      return str(v.reason) ? { ok: true, signal: v as unknown as AgentSignal } : bad("reason");
    default:
      return { ok: false, error: `an unknown signal type ${JSON.stringify(v.type)}` };
  }
}

/** What the SDK needs of a WebSocket. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface SignalingHandlers {
  /** Every valid signal after the welcome. */
  onSignal(s: AgentSignal): void;
  /** A message that is not a valid AgentSignal (the connection stays up). */
  onBadMessage(error: PlayrackError): void;
  /** The socket closed (not called after {@link Signaling.close}). */
  onClose(code: number, reason: string): void;
}

/** A WebSocket URL for a signaling URL (`http(s)://` becomes `ws(s)://`). */
export function webSocketUrl(url: string): string {
  return url.replace(/^http(s?):/i, (_, s: string) => (s ? "wss:" : "ws:"));
}

/** One signaling connection (one token: tokens are single use). */
export class Signaling {
  private socket: SocketLike | undefined;
  private closedByUs = false;

  constructor(
    private readonly factory: SocketFactory,
    private readonly handlers: SignalingHandlers,
  ) {}

  /** Connects, says hello, and resolves with the welcome (rejects with the agent's refusal). */
  open(url: string, token: string): Promise<AgentSignalWelcome> {
    return new Promise((resolve, reject) => {
      let welcomed = false;
      let socket: SocketLike;
      try {
        socket = this.factory(webSocketUrl(url));
      } catch (e) {
        reject(new PlayrackError(SdkCode.NETWORK, `cannot open ${url}: ${String(e)}`));
        return;
      }
      this.socket = socket;
      socket.onopen = () => {
        this.send({ type: "hello", token, role: "player" });
      };
      socket.onmessage = (ev) => {
        const parsed = parseAgentSignal(ev.data);
        if (!parsed.ok) {
          const err = new PlayrackError(SdkCode.BAD_SIGNAL, parsed.error);
          if (welcomed) this.handlers.onBadMessage(err);
          else {
            this.close();
            reject(err);
          }
          return;
        }
        const s = parsed.signal;
        if (!welcomed) {
          if (s.type === "welcome") {
            welcomed = true;
            resolve(s);
          } else if (s.type === "error") {
            this.close();
            reject(new PlayrackError(s.code, s.message));
          } else if (s.type === "ended") {
            this.close();
            reject(new PlayrackError("ENDED", s.reason));
          } else {
            this.handlers.onBadMessage(new PlayrackError(SdkCode.BAD_SIGNAL, `\`${s.type}\` before welcome`));
          }
          return;
        }
        this.handlers.onSignal(s);
      };
      socket.onerror = () => {
        /* onclose follows */
      };
      socket.onclose = (ev) => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        if (!welcomed) {
          reject(new PlayrackError(SdkCode.NETWORK, `signaling closed before welcome (${ev.code ?? 0})`));
        } else if (!this.closedByUs) {
          this.handlers.onClose(ev.code ?? 0, ev.reason ?? "");
        }
      };
    });
  }

  get connected(): boolean {
    return this.socket !== undefined && this.socket.readyState === 1;
  }

  send(msg: ClientSignal): boolean {
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  /** Closes without reporting onClose. */
  close(): void {
    this.closedByUs = true;
    const s = this.socket;
    this.socket = undefined;
    try {
      s?.close(1000, "bye");
    } catch {
      /* already closed */
    }
  }
}
