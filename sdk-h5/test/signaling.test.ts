import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAgentSignal, Signaling, webSocketUrl } from "../src/signaling.js";
import { PlayrackError } from "../src/errors.js";
import type { AgentSignal } from "../src/generated/wire.js";
import { FakeSocket } from "./helpers.js";

test("valid agent signals parse", () => {
  const ok: AgentSignal[] = [
    { type: "welcome", session_id: "ses_1", ice_servers: [{ urls: ["stun:x"] }] },
    { type: "answer", sdp: "v=0" },
    { type: "candidate", candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host" },
    { type: "stats", stats: { bitrate_kbps: 1, fps: 30, rtt_ms: 5, loss: 0, width: 720, height: 1280 } },
    { type: "notice", code: "MAINTENANCE", message: "soon" },
    { type: "clipboard", text: "礼包码 GIFT-2026" },
    { type: "custom", data: '{"level":3}' },
    { type: "ended", reason: "TRIAL_OVER" },
    { type: "error", code: "X", message: "y" },
  ];
  for (const s of ok) {
    const p = parseAgentSignal(JSON.stringify(s));
    assert.ok(p.ok, JSON.stringify(s));
    if (p.ok) assert.deepEqual(p.signal, s);
  }
});

test("malformed agent signals are refused with a reason, never thrown", () => {
  for (const bad of [
    "not json",
    "[]",
    "null",
    '"welcome"',
    '{"type":"teleport"}',
    '{"sdp":"x"}',
    '{"type":"answer"}',
    '{"type":"answer","sdp":5}',
    '{"type":"welcome","session_id":"s","ice_servers":[{"urls":"stun:x"}]}',
    '{"type":"stats","stats":{"fps":"fast"}}',
    '{"type":"ended"}',
    '{"type":"notice","code":"X"}',
    '{"type":"clipboard"}',
    '{"type":"clipboard","text":7}',
    '{"type":"custom"}',
    `{"type":"answer","sdp":"${"a".repeat(70_000)}"}`,
  ]) {
    const p = parseAgentSignal(bad);
    assert.equal(p.ok, false, bad.slice(0, 60));
    if (!p.ok) assert.ok(p.error.length > 0);
  }
  assert.equal(parseAgentSignal(new ArrayBuffer(4)).ok, false);
});

function open() {
  const sockets: FakeSocket[] = [];
  const events: { signals: AgentSignal[]; bad: PlayrackError[]; closes: number[] } = { signals: [], bad: [], closes: [] };
  const sig = new Signaling(
    (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    {
      onSignal: (s) => events.signals.push(s),
      onBadMessage: (e) => events.bad.push(e),
      onClose: (code) => events.closes.push(code),
    },
  );
  return { sig, sockets, events };
}

test("hello goes first, welcome resolves, later signals and bad messages are delivered", async () => {
  const { sig, sockets, events } = open();
  const welcome = sig.open("ws://board/v1/signal", "tok_1");
  const ws = sockets[0]!;
  assert.equal(ws.url, "ws://board/v1/signal");
  ws.open();
  assert.deepEqual(ws.messages, [{ type: "hello", token: "tok_1", role: "player" }]);
  ws.receive({ type: "welcome", session_id: "ses_1", ice_servers: [] });
  assert.equal((await welcome).session_id, "ses_1");
  ws.receive({ type: "notice", code: "MAINTENANCE", message: "in 5 minutes" });
  ws.receive("{garbage");
  ws.receive({ type: "ended", reason: "TRIAL_OVER" });
  assert.deepEqual(
    events.signals.map((s) => s.type),
    ["notice", "ended"],
  );
  assert.equal(events.bad.length, 1);
  assert.equal(events.bad[0]!.code, "BAD_SIGNAL");
  assert.ok(sig.send({ type: "bye" }));
  ws.drop(1006);
  assert.deepEqual(events.closes, [1006]);
  assert.equal(sig.connected, false);
});

test("a refusal before welcome rejects with the agent's code", async () => {
  const { sig, sockets, events } = open();
  const welcome = sig.open("ws://board", "used-token");
  sockets[0]!.open();
  sockets[0]!.receive({ type: "error", code: "TOKEN_REPLAYED", message: "this token was used before" });
  await assert.rejects(welcome, (e: unknown) => e instanceof PlayrackError && e.code === "TOKEN_REPLAYED");
  assert.ok(sockets[0]!.closed);
  assert.deepEqual(events.closes, [], "a refusal is not a drop");
});

test("a socket that closes before welcome rejects; our own close is not reported", async () => {
  const a = open();
  const w = a.sig.open("ws://board", "t");
  a.sockets[0]!.drop(1006);
  await assert.rejects(w, (e: unknown) => e instanceof PlayrackError && e.code === "NETWORK");

  const b = open();
  const w2 = b.sig.open("ws://board", "t");
  b.sockets[0]!.open();
  b.sockets[0]!.receive({ type: "welcome", session_id: "s", ice_servers: [] });
  await w2;
  b.sig.close();
  b.sockets[0]!.onclose?.({ code: 1000 });
  assert.deepEqual(b.events.closes, []);
  assert.equal(b.sig.send({ type: "bye" }), false);
});

test("http signaling URLs are dialled as WebSockets", () => {
  assert.equal(webSocketUrl("http://10.0.0.5:7700/v1/signal"), "ws://10.0.0.5:7700/v1/signal");
  assert.equal(webSocketUrl("HTTPS://board.example/v1/signal"), "wss://board.example/v1/signal");
  assert.equal(webSocketUrl("ws://board/v1/signal"), "ws://board/v1/signal");
  assert.equal(webSocketUrl("wss://board/v1/signal"), "wss://board/v1/signal");
});
