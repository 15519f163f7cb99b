import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiClient } from "../src/api.js";
import { PlayrackError } from "../src/errors.js";

type Call = { url: string; init: RequestInit | undefined };

function client(respond: (c: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const slept: number[] = [];
  // A clock whose timers fire at once, recording how long they were set for.
  const clock = {
    now: () => 0,
    setTimeout: (f: () => void, ms: number) => {
      slept.push(ms);
      queueMicrotask(f);
      return 0;
    },
    clearTimeout: () => {},
  };
  const api = new ApiClient(
    "https://ctl.example/",
    async (url, init) => {
      const c = { url, init };
      calls.push(c);
      return respond(c);
    },
    clock,
  );
  return { api, calls, slept };
}

const json = (body: unknown, status = 200, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": type } });

test("acquire posts the body with an Idempotency-Key and returns the tagged answer", async () => {
  const { api, calls } = client(() =>
    json({ status: "QUEUED", ticket_id: "tkt_1", position: 2, queue_length: 5, eta_secs: 40, reason: "ROOM_FULL", poll_after_ms: 10000, play_key: "pk1_t" }),
  );
  const res = await api.acquire({ link: "abc", device_id: "d".repeat(20), rtt_ms: { room_a: 12 } }, "key-1");
  assert.equal(res.status, "QUEUED");
  const c = calls[0]!;
  assert.equal(c.url, "https://ctl.example/v1/play/acquire");
  assert.equal(c.init?.method, "POST");
  const headers = c.init?.headers as Record<string, string>;
  assert.equal(headers["Idempotency-Key"], "key-1");
  assert.equal(headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(String(c.init?.body)), { link: "abc", device_id: "d".repeat(20), rtt_ms: { room_a: 12 } });
});

test("tickets and sessions are acted on with the play key their holder was given", async () => {
  const ticket = { id: "tkt_1", state: "claimed", session_id: "ses_1", play_key: "pk1_s", queue_length: 0, eta_secs: 0, reason: "ROOM_FULL", poll_after_ms: 2000 };
  const session = { id: "ses_1", state: "ended", end_reason: "USER_LEFT" };
  const { api, calls } = client((c) => {
    if (c.url.endsWith("/acquire"))
      return json({ status: "QUEUED", ticket_id: "tkt_1", position: 1, queue_length: 1, eta_secs: 5, reason: "ROOM_FULL", poll_after_ms: 2000, play_key: "pk1_t" });
    return json(c.url.includes("/tickets/") ? ticket : session);
  });
  const auth = (i: number) => (calls[i]!.init?.headers as Record<string, string>).authorization;
  await api.acquire({ link: "abc", device_id: "d".repeat(20) }, "k");
  assert.equal(api.ticketEventsUrl("tkt_1"), "https://ctl.example/v1/play/tickets/tkt_1/events?key=pk1_t");
  await api.pollTicket("tkt_1");
  assert.equal(auth(1), "Bearer pk1_t");
  await api.leave("ses_1"); // the claimed ticket handed over the session's key
  assert.equal(auth(2), "Bearer pk1_s");
  await api.leave("ses_1"); // forgotten once left
  assert.equal(auth(3), undefined);
});

test("problem+json answers become PlayrackErrors with the stable code", async () => {
  const { api } = client(() =>
    json(
      { type: "https://playrack.dev/problems/link_expired", title: "Gone", status: 410, code: "LINK_EXPIRED", detail: "this link expired" },
      410,
      "application/problem+json",
    ),
  );
  await assert.rejects(
    api.linkCard("old"),
    (e: unknown) => e instanceof PlayrackError && e.code === "LINK_EXPIRED" && e.status === 410 && e.message === "this link expired",
  );
});

test("network failures, non-problem errors and wrong shapes have their own codes", async () => {
  const down = client(() => {
    throw new TypeError("Failed to fetch");
  });
  await assert.rejects(down.api.pollTicket("t"), (e: unknown) => e instanceof PlayrackError && e.code === "NETWORK");
  const html = client(() => new Response("<html>bad gateway</html>", { status: 502 }));
  await assert.rejects(html.api.pollTicket("t"), (e: unknown) => e instanceof PlayrackError && e.code === "HTTP_502" && e.status === 502);
  const shape = client(() => json({ status: "MAYBE" }));
  await assert.rejects(shape.api.acquire({}, "k"), (e: unknown) => e instanceof PlayrackError && e.code === "BAD_RESPONSE");
  const session = client(() => json({ session: { id: "s", state: "ready" }, connect: { signaling_url: 5 } }));
  await assert.rejects(session.api.playSession("s"), (e: unknown) => e instanceof PlayrackError && e.code === "BAD_RESPONSE");
});

test("ids are escaped in paths; URLs the controller gives are kept absolute", async () => {
  const { api, calls } = client(() => json({ id: "a/b", state: "cancelled", reason: "", queue_length: 0, eta_secs: 0, poll_after_ms: 0 }));
  await api.cancelTicket("a/b");
  assert.equal(calls[0]!.url, "https://ctl.example/v1/play/tickets/a%2Fb");
  assert.equal(calls[0]!.init?.method, "DELETE");
  assert.equal(api.url("wss://board:7700/v1/signal"), "wss://board:7700/v1/signal");
  assert.equal(api.url("/probe"), "https://ctl.example/probe");
  assert.equal(new ApiClient("", fetch).url("/v1/x"), "/v1/x");
  assert.equal(api.ticketEventsUrl("t1"), "https://ctl.example/v1/play/tickets/t1/events");
});

const busy = (retryAfter: string | null, status = 503) =>
  new Response(
    JSON.stringify({ type: "https://playrack.dev/problems/busy", title: "Busy", status, code: "BUSY", detail: "retry it" }),
    { status, headers: { "content-type": "application/problem+json", ...(retryAfter === null ? {} : { "retry-after": retryAfter }) } },
  );

test("a busy answer is retried after its Retry-After with the same Idempotency-Key", async () => {
  const answers = [busy("2"), busy(null, 429), json({ status: "ASSIGNED", session_id: "ses_1", room_id: "r", board_id: "b", spec_id: "hd", downgraded: false, play_key: "pk1_s" })];
  const { api, calls, slept } = client(() => answers.shift()!);
  const res = await api.acquire({ link: "abc", device_id: "d".repeat(20) }, "key-9");
  assert.equal(res.status, "ASSIGNED");
  assert.equal(calls.length, 3);
  assert.deepEqual(slept, [2000, 1000], "Retry-After, else a second");
  for (const c of calls) assert.equal((c.init?.headers as Record<string, string>)["Idempotency-Key"], "key-9");
});

test("retries stop after a few attempts and long waits are capped; other errors are not retried", async () => {
  const { api, calls, slept } = client(() => busy("3600"));
  await assert.rejects(api.linkCard("abc"), (e: unknown) => e instanceof PlayrackError && e.code === "BUSY" && e.status === 503);
  assert.equal(calls.length, 4);
  assert.deepEqual(slept, [5000, 5000, 5000]);
  const other = client(() => json({ type: "t", title: "Unprocessable", status: 422, code: "VALIDATION_FAILED", detail: "no" }, 422, "application/problem+json"));
  await assert.rejects(other.api.linkCard("abc"), (e: unknown) => e instanceof PlayrackError && e.code === "VALIDATION_FAILED");
  assert.equal(other.calls.length, 1);
  assert.deepEqual(other.slept, []);
});
