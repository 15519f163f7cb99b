import { test } from "node:test";
import assert from "node:assert/strict";
import { followTicket, pollInterval, ticketStep } from "../src/queue.js";
import { PlayrackError } from "../src/errors.js";
import type { Ticket } from "../src/generated/wire.js";
import { ManualClock, until } from "./helpers.js";

const ticket = (state: Ticket["state"], extra: Partial<Ticket> = {}): Ticket => ({
  id: "tkt_1",
  state,
  reason: "ROOM_FULL",
  queue_length: 3,
  eta_secs: 60,
  poll_after_ms: 10_000,
  ...extra,
});

test("ticket steps: waiting waits, promoted claims, claimed assigns, the rest end", () => {
  assert.equal(ticketStep(ticket("waiting", { position: 2 })).kind, "wait");
  assert.equal(ticketStep(ticket("promoted")).kind, "claim");
  assert.deepEqual(ticketStep(ticket("claimed", { session_id: "ses_9" })), { kind: "assigned", sessionId: "ses_9" });
  assert.equal(ticketStep(ticket("claimed")).kind, "claim", "claimed without a session id yet: poll again");
  for (const s of ["cancelled", "evicted", "expired"] as const) {
    const step = ticketStep(ticket(s));
    assert.equal(step.kind, "ended");
    if (step.kind === "ended") assert.equal(step.code, `TICKET_${s.toUpperCase()}`);
  }
});

test("polls run well inside the eviction window", () => {
  assert.equal(pollInterval(10_000), 5000);
  assert.equal(pollInterval(3000), 1500);
  assert.equal(pollInterval(100), 250);
  assert.equal(pollInterval(60_000), 5000);
});

/** A fake controller ticket and its event stream. */
function fakeQueue(clock: ManualClock) {
  const polls: number[] = [];
  let answers: (Ticket | Error)[] = [];
  let push: ((data: string) => void) | undefined;
  let fail: (() => void) | undefined;
  let closed = 0;
  return {
    polls,
    setAnswers: (a: (Ticket | Error)[]) => (answers = a),
    api: {
      pollTicket: async () => {
        polls.push(clock.now());
        const a = answers.length > 1 ? answers.shift()! : answers[0]!;
        if (a instanceof Error) throw a;
        return a;
      },
      ticketEventsUrl: (id: string) => `/v1/play/tickets/${id}/events`,
    },
    openEvents: (_url: string, onEvent: (d: string) => void, onError: () => void) => {
      push = onEvent;
      fail = onError;
      return () => void closed++;
    },
    push: (t: unknown) => push!(typeof t === "string" ? t : JSON.stringify(t)),
    fail: () => fail!(),
    get closed() {
      return closed;
    },
  };
}

test("events move the line; a promotion is claimed by a poll; the session id comes back", async () => {
  const clock = new ManualClock();
  const q = fakeQueue(clock);
  const updates: Ticket[] = [];
  const f = followTicket({
    ticketId: "tkt_1",
    pollAfterMs: 10_000,
    api: q.api,
    openEvents: q.openEvents,
    onUpdate: (t) => updates.push(t),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  q.push(ticket("waiting", { position: 3 }));
  q.push(ticket("waiting", { position: 3 })); // unchanged: no second update
  q.push(ticket("waiting", { position: 2, queue_length: 2 }));
  q.push("not json"); // ignored
  q.push({ id: "tkt_1", state: "bogus" }); // ignored
  assert.deepEqual(
    updates.map((u) => u.position),
    [3, 2],
  );
  // a poll keeps the ticket in line even while events flow
  q.setAnswers([ticket("waiting", { position: 2, queue_length: 2 })]);
  clock.advance(5000);
  await until(() => q.polls.length === 1, "the keep-alive poll");
  // promoted: claimed at once by polling
  q.setAnswers([ticket("claimed", { session_id: "ses_42" })]);
  q.push(ticket("promoted", { position: undefined }));
  clock.advance(0);
  assert.equal(await f.done, "ses_42");
  assert.equal(updates.at(-1)!.state, "promoted");
  assert.equal(q.closed, 1, "the event stream is closed");
  assert.equal(clock.pending, 0, "no timer left behind");
});

test("without events the ticket is polled; eviction rejects with TICKET_EVICTED", async () => {
  const clock = new ManualClock();
  const q = fakeQueue(clock);
  q.setAnswers([ticket("waiting", { position: 1, poll_after_ms: 2000 }), ticket("evicted")]);
  const f = followTicket({
    ticketId: "tkt_1",
    pollAfterMs: 2000,
    api: q.api,
    onUpdate: () => undefined,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  clock.advance(1000);
  await until(() => q.polls.length === 1, "first poll");
  await until(() => clock.pending === 1, "next poll scheduled");
  clock.advance(1000);
  await assert.rejects(f.done, (e: unknown) => e instanceof PlayrackError && e.code === "TICKET_EVICTED");
  assert.deepEqual(q.polls, [1000, 2000]);
});

test("a failed event stream falls back to polling; transient poll errors are retried", async () => {
  const clock = new ManualClock();
  const q = fakeQueue(clock);
  q.setAnswers([new PlayrackError("NETWORK", "down"), ticket("claimed", { session_id: "ses_7" })]);
  const f = followTicket({
    ticketId: "tkt_1",
    pollAfterMs: 10_000,
    api: q.api,
    openEvents: q.openEvents,
    onUpdate: () => undefined,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  q.fail();
  clock.advance(0);
  await until(() => q.polls.length === 1 && clock.pending === 1, "a retry after the failed poll");
  clock.advance(500);
  assert.equal(await f.done, "ses_7");
});

test("a 404 ends the follow; stop() rejects with CANCELLED", async () => {
  const clock = new ManualClock();
  const q = fakeQueue(clock);
  q.setAnswers([new PlayrackError("NOT_FOUND", "no such ticket", 404)]);
  const f = followTicket({
    ticketId: "tkt_1",
    pollAfterMs: 1000,
    api: q.api,
    onUpdate: () => undefined,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  clock.advance(500);
  await assert.rejects(f.done, (e: unknown) => e instanceof PlayrackError && e.code === "NOT_FOUND");

  const g = followTicket({
    ticketId: "tkt_1",
    pollAfterMs: 1000,
    api: q.api,
    onUpdate: () => undefined,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  g.stop();
  await assert.rejects(g.done, (e: unknown) => e instanceof PlayrackError && e.code === "CANCELLED");
  assert.equal(clock.pending, 0);
});
