/**
 * The controller's player API (`/v1/play/…`) as a small REST client: link cards, acquire,
 * queue tickets, play sessions. Errors come back as `application/problem+json` and are raised
 * as {@link PlayrackError}s carrying the problem's stable `code`. `fetch` is injected, so tests
 * run without a network.
 *
 * Tickets and sessions are acted on with the play key the controller gave their holder (acquire
 * answers with it; a claimed ticket carries its session's). The client keeps the keys it was
 * given, by id, and sends each as `Authorization: Bearer <play_key>` (the ticket's event stream,
 * which browsers open without headers, as `?key=`); a key is forgotten when its play is left.
 *
 * An answer that says "try again shortly" — `503` (the controller busy or its database away)
 * or `429`, with `Retry-After` — is retried after the time it names (at most
 * {@link RETRY_MAX_WAIT_MS} each, {@link RETRY_ATTEMPTS} attempts in all). Every call here is
 * safe to repeat: acquire carries its `Idempotency-Key`, the rest read or end a play.
 */
import { realClock, sleep, type Clock } from "./clock.js";
import { PlayrackError, SdkCode } from "./errors.js";
import type {
  AcquireRequest,
  AcquireResponse,
  LinkCard,
  PlayerSaves,
  PlaySession,
  Problem,
  SavesRequest,
  Session,
  Ticket,
} from "./generated/wire.js";

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** Attempts of one call answered "try again shortly" (the first included). */
export const RETRY_ATTEMPTS = 4;
/** The longest `Retry-After` the client waits for; a longer one is waited for this long. */
export const RETRY_MAX_WAIT_MS = 5_000;

/** How long a "try again shortly" answer asks to wait, in ms (`Retry-After` in seconds). */
export function retryAfterMs(res: Response): number | undefined {
  if (res.status !== 503 && res.status !== 429) return undefined;
  const secs = Number(res.headers.get("retry-after") ?? "1");
  return Number.isFinite(secs) && secs >= 0 ? Math.min(secs * 1000, RETRY_MAX_WAIT_MS) : 1000;
}

export class ApiClient {
  /** Play keys by ticket or session id. */
  private readonly keys = new Map<string, string>();

  /** `base` is the controller's origin (or a path prefix); `""` means the page's own origin. */
  constructor(
    readonly base: string,
    private readonly fetchFn: FetchFn,
    private readonly clock: Clock = realClock,
  ) {}

  /** An absolute or base-relative URL for a controller path (`/v1/…`) or a URL the controller gave. */
  url(path: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
    return this.base.replace(/\/+$/, "") + (path.startsWith("/") ? path : `/${path}`);
  }

  /** `GET /v1/play/links/{code}`: the game card and the rooms to measure. */
  linkCard(code: string): Promise<LinkCard> {
    return this.request<LinkCard>("GET", `/v1/play/links/${encodeURIComponent(code)}`, undefined, {}, isLinkCard);
  }

  /** `POST /v1/play/links/{code}/cta`: a click on the link's call to action (survives the page closing). */
  async cta(code: string): Promise<void> {
    await this.request<undefined>("POST", `/v1/play/links/${encodeURIComponent(code)}/cta`, undefined, {}, (v) => v === undefined, true);
  }

  /** `POST /v1/play/saves`: the player's own saves of the game, newest first. */
  saves(body: SavesRequest): Promise<PlayerSaves> {
    return this.request<PlayerSaves>("POST", "/v1/play/saves", body, {}, isPlayerSaves);
  }

  /** `POST /v1/play/acquire` with an `Idempotency-Key` (a retry with the same key is safe). */
  async acquire(body: AcquireRequest, idempotencyKey: string): Promise<AcquireResponse> {
    const res = await this.request<AcquireResponse>(
      "POST",
      "/v1/play/acquire",
      body,
      { "Idempotency-Key": idempotencyKey },
      isAcquireResponse,
    );
    this.keys.set(res.status === "ASSIGNED" ? res.session_id : res.ticket_id, res.play_key);
    return res;
  }

  /** Keeps the session key a claimed ticket hands over (polls do it; event streams call it). */
  remember(t: Ticket): void {
    if (t.session_id && t.play_key) this.keys.set(t.session_id, t.play_key);
  }

  /** `GET /v1/play/tickets/{id}`: keeps the ticket in line; claims a promoted one. */
  async pollTicket(id: string): Promise<Ticket> {
    const t = await this.request<Ticket>("GET", ticketPath(id), undefined, this.auth(id), isTicket);
    this.remember(t);
    return t;
  }

  /** `DELETE /v1/play/tickets/{id}`: leaves the line. */
  async cancelTicket(id: string): Promise<Ticket> {
    const t = await this.request<Ticket>("DELETE", ticketPath(id), undefined, this.auth(id), isTicket);
    this.keys.delete(id);
    return t;
  }

  /** The server-sent-events URL of a ticket (events named `ticket`, data a Ticket). */
  ticketEventsUrl(id: string): string {
    const key = this.keys.get(id);
    return this.url(`${ticketPath(id)}/events${key ? `?key=${encodeURIComponent(key)}` : ""}`);
  }

  /** `GET /v1/play/sessions/{id}`: the session and, once ready, a fresh single-use connect token. */
  playSession(id: string): Promise<PlaySession> {
    return this.request<PlaySession>("GET", sessionPath(id), undefined, this.auth(id), isPlaySession);
  }

  /** `DELETE /v1/play/sessions/{id}`: the player leaves (`USER_LEFT`); survives the page closing. */
  async leave(id: string): Promise<Session> {
    const s = await this.request<Session>("DELETE", sessionPath(id), undefined, this.auth(id), isSession, true);
    this.keys.delete(id);
    return s;
  }

  /** The play key header for a ticket or session (none if this client was never given one). */
  private auth(id: string): Record<string, string> {
    const key = this.keys.get(id);
    return key ? { authorization: `Bearer ${key}` } : {};
  }

  private async request<T>(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    check: (v: unknown) => boolean,
    keepalive = false,
  ): Promise<T> {
    const init: RequestInit = { method, headers: { accept: "application/json", ...headers }, cache: "no-store" };
    if (keepalive) init.keepalive = true;
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await this.fetchFn(this.url(path), init);
      } catch (e) {
        throw new PlayrackError(SdkCode.NETWORK, `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const wait = retryAfterMs(res);
      if (wait === undefined || attempt >= RETRY_ATTEMPTS) break;
      await res.body?.cancel().catch(() => undefined);
      await sleep(this.clock, wait);
    }
    const text = await res.text().catch(() => "");
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      if (isProblem(json)) throw new PlayrackError(json.code, json.detail || json.title, res.status);
      throw new PlayrackError(`HTTP_${res.status}`, `${method} ${path}: HTTP ${res.status}`, res.status);
    }
    if (!check(json)) {
      throw new PlayrackError(SdkCode.BAD_RESPONSE, `${method} ${path}: unexpected answer ${text.slice(0, 200)}`);
    }
    return json as T;
  }
}

const ticketPath = (id: string) => `/v1/play/tickets/${encodeURIComponent(id)}`;
const sessionPath = (id: string) => `/v1/play/sessions/${encodeURIComponent(id)}`;

// Shape checks: enough of each body to rely on what the SDK reads.

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const optStr = (v: unknown) => v === undefined || v === null || isStr(v);

export function isProblem(v: unknown): v is Problem {
  return isRecord(v) && isStr(v.code) && (isStr(v.detail) || isStr(v.title));
}

export function isLinkCard(v: unknown): v is LinkCard {
  return (
    isRecord(v) &&
    isStr(v.code) &&
    isStr(v.game_id) &&
    isStr(v.game_name) &&
    isNum(v.trial_seconds) &&
    optStr(v.icon_url) &&
    Array.isArray(v.rooms) &&
    v.rooms.every((r) => isRecord(r) && isStr(r.room_id) && isStr(r.probe_url))
  );
}

export function isPlayerSaves(v: unknown): v is PlayerSaves {
  return (
    isRecord(v) &&
    Array.isArray(v.items) &&
    v.items.every((s) => isRecord(s) && isStr(s.id) && isStr(s.created_at) && isNum(s.size_bytes) && typeof s.pinned === "boolean")
  );
}

export function isAcquireResponse(v: unknown): v is AcquireResponse {
  if (!isRecord(v)) return false;
  if (v.status === "ASSIGNED") return isStr(v.session_id) && isStr(v.play_key);
  if (v.status === "QUEUED")
    return (
      isStr(v.ticket_id) &&
      isStr(v.play_key) &&
      isNum(v.position) &&
      isNum(v.queue_length) &&
      isNum(v.eta_secs) &&
      isNum(v.poll_after_ms)
    );
  return false;
}

const TICKET_STATES = ["waiting", "promoted", "claimed", "cancelled", "evicted", "expired"];

export function isTicket(v: unknown): v is Ticket {
  return (
    isRecord(v) &&
    isStr(v.id) &&
    isStr(v.state) &&
    TICKET_STATES.includes(v.state) &&
    isNum(v.queue_length) &&
    isNum(v.eta_secs) &&
    isNum(v.poll_after_ms) &&
    optStr(v.session_id) &&
    optStr(v.play_key)
  );
}

const SESSION_STATES = ["reserved", "preparing", "ready", "playing", "ending", "ended"];

export function isSession(v: unknown): v is Session {
  return isRecord(v) && isStr(v.id) && isStr(v.state) && SESSION_STATES.includes(v.state) && optStr(v.end_reason);
}

export function isPlaySession(v: unknown): v is PlaySession {
  if (!isRecord(v) || !isSession(v.session)) return false;
  const c = v.connect;
  return c === undefined || c === null || (isRecord(c) && isStr(c.signaling_url) && isStr(c.token));
}
