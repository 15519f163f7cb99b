/**
 * Waiting in line: follows a queue ticket until it becomes a session. Live updates come from
 * the ticket's server-sent events (`GET /v1/play/tickets/{id}/events`, events named `ticket`);
 * beside them (and instead of them when no stream can be opened or it fails) the ticket is
 * polled, always more often than its `poll_after_ms`, so it is never evicted. A promoted ticket is claimed by polling it. The
 * decision for each ticket seen is the pure {@link ticketStep}.
 */
import { isTicket } from "./api.js";
import { PlayrackError, SdkCode } from "./errors.js";
import type { Ticket } from "./generated/wire.js";

/** What to do after seeing a ticket. */
export type TicketStep =
  | { kind: "wait"; ticket: Ticket }
  | { kind: "claim"; ticket: Ticket }
  | { kind: "assigned"; sessionId: string }
  | { kind: "ended"; code: string; message: string };

export function ticketStep(t: Ticket): TicketStep {
  switch (t.state) {
    case "waiting":
      return { kind: "wait", ticket: t };
    case "promoted":
      return { kind: "claim", ticket: t };
    case "claimed":
      return t.session_id
        ? { kind: "assigned", sessionId: t.session_id }
        : { kind: "claim", ticket: t };
    default:
      return {
        kind: "ended",
        code: `TICKET_${t.state.toUpperCase()}`,
        message: `the queue ticket was ${t.state}`,
      };
  }
}

/** How often to poll a ticket: half its eviction window, between 250 ms and 5 s. */
export function pollInterval(pollAfterMs: number): number {
  return Math.min(5000, Math.max(250, Math.floor(pollAfterMs / 2)));
}

/** Opens an event stream; calls `onEvent` with each `ticket` event's data, `onError` once it fails. */
export type OpenEvents = (
  url: string,
  onEvent: (data: string) => void,
  onError: () => void,
) => () => void;

export interface FollowOptions {
  ticketId: string;
  pollAfterMs: number;
  api: {
    pollTicket(id: string): Promise<Ticket>;
    ticketEventsUrl(id: string): string;
    /** Keeps the session key a ticket seen on the event stream hands over. */
    remember?(t: Ticket): void;
  };
  /** Absent: poll only. */
  openEvents?: OpenEvents;
  onUpdate: (t: Ticket) => void;
  setTimeout: (f: () => void, ms: number) => unknown;
  clearTimeout: (h: unknown) => void;
  /** Consecutive failed polls tolerated before giving up. Default 5. */
  maxPollFailures?: number;
}

/** A running follow: `done` resolves with the session id; `stop()` ends it (done rejects CANCELLED). */
export interface Follow {
  done: Promise<string>;
  stop(): void;
}

/** Follows a ticket until it is claimed (→ session id) or leaves the line (→ rejects). */
export function followTicket(o: FollowOptions): Follow {
  let finished = false;
  let closeEvents: (() => void) | undefined;
  let timer: unknown;
  let polling = false;
  let failures = 0;
  let interval = pollInterval(o.pollAfterMs);
  let last = "";
  let resolve!: (s: string) => void;
  let reject!: (e: PlayrackError) => void;
  const done = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });

  const finish = (f: () => void) => {
    if (finished) return;
    finished = true;
    closeEvents?.();
    closeEvents = undefined;
    if (timer !== undefined) o.clearTimeout(timer);
    f();
  };

  const schedule = (ms: number) => {
    if (finished) return;
    if (timer !== undefined) o.clearTimeout(timer);
    timer = o.setTimeout(() => {
      timer = undefined;
      void poll();
    }, ms);
  };

  const seen = (t: Ticket, fromEvents: boolean) => {
    if (finished) return;
    interval = pollInterval(t.poll_after_ms);
    const step = ticketStep(t);
    const key = `${t.state}/${t.position}/${t.queue_length}/${t.eta_secs}`;
    if (step.kind === "wait" || step.kind === "claim") {
      if (key !== last) o.onUpdate(t);
      last = key;
    }
    switch (step.kind) {
      case "assigned":
        finish(() => resolve(step.sessionId));
        return;
      case "ended":
        finish(() => reject(new PlayrackError(step.code, step.message)));
        return;
      case "claim":
        schedule(0);
        return;
      case "wait":
        // polls continue beside the event stream (a proxy may hold events back): an event
        // does not postpone the next poll, a poll schedules the next one
        if (!fromEvents || timer === undefined) schedule(interval);
    }
  };

  const poll = async () => {
    if (finished || polling) return;
    polling = true;
    try {
      const t = await o.api.pollTicket(o.ticketId);
      failures = 0;
      seen(t, false);
    } catch (e) {
      const err = e instanceof PlayrackError ? e : new PlayrackError(SdkCode.NETWORK, String(e));
      const transient = err.code === SdkCode.NETWORK || (err.status ?? 0) >= 500;
      failures += 1;
      if (!transient || failures > (o.maxPollFailures ?? 5)) finish(() => reject(err));
      else schedule(Math.min(interval, 250 * 2 ** failures));
    } finally {
      polling = false;
    }
  };

  if (o.openEvents) {
    closeEvents = o.openEvents(
      o.api.ticketEventsUrl(o.ticketId),
      (data) => {
        let t: unknown;
        try {
          t = JSON.parse(data);
        } catch {
          t = undefined;
        }
        if (isTicket(t)) {
          o.api.remember?.(t);
          seen(t, true);
        }
      },
      () => {
        // the stream failed: fall back to polling (which also keeps the ticket in line)
        closeEvents?.();
        closeEvents = undefined;
        schedule(0);
      },
    );
  }
  schedule(interval);

  return {
    done,
    stop: () => finish(() => reject(new PlayrackError(SdkCode.CANCELLED, "left the queue"))),
  };
}

/** An {@link OpenEvents} over the browser's EventSource. */
export function eventSourceOpener(ES: typeof EventSource): OpenEvents {
  return (url, onEvent, onError) => {
    const es = new ES(url);
    const onTicket = (e: MessageEvent) => onEvent(String(e.data));
    es.addEventListener("ticket", onTicket as EventListener);
    es.onerror = () => {
      es.close();
      onError();
    };
    return () => es.close();
  };
}
