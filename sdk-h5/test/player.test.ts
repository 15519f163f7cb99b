/**
 * The whole player flow against fakes: a fake controller (fetch), fake agent sockets, fake
 * peers and a fake view, on a clock 10× faster than real time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPlayer, type Env, type Player, type PlayerEvents } from "../src/player.js";
import type { GamepadLike } from "../src/gamepad.js";
import type { MotionSample, OrientationSample, PositionSample } from "../src/sensors.js";
import { PlayrackError } from "../src/errors.js";
import type { AcquireResponse, EndReason, PlaySession, Ticket } from "../src/generated/wire.js";
import type { InputHandlers, View } from "../src/view.js";
import { FakePeer, FakeSocket, fastClock, until } from "./helpers.js";

class FakeView implements View {
  muted = true;
  attached = 0;
  detached = 0;
  lit = false;
  handlers: InputHandlers | undefined;
  private frameCb: ((t: number) => void) | undefined;
  attach() {
    this.attached++;
  }
  detach() {
    this.detached++;
  }
  setMuted(m: boolean) {
    this.muted = m;
  }
  videoSize() {
    return { width: 720, height: 1280 };
  }
  onFrame(cb: (t: number) => void) {
    this.frameCb = cb;
    return () => {
      if (this.frameCb === cb) this.frameCb = undefined;
    };
  }
  /** A decoded frame is shown. */
  frame(t: number) {
    this.frameCb?.(t);
  }
  get hasFrameCallback() {
    return this.frameCb !== undefined;
  }
  readProbeLit() {
    return this.lit;
  }
  bindInput(h: InputHandlers) {
    this.handlers = h;
    return () => undefined;
  }
  keyboardShown = 0;
  showKeyboard() {
    this.keyboardShown += 1;
  }
  locked = false;
  async lockPointer() {
    this.locked = true;
    this.handlers?.pointerLock(true);
    return true;
  }
  unlockPointer() {
    this.locked = false;
    this.handlers?.pointerLock(false);
  }
  destroy() {}
}

interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

const session = (state: PlaySession["session"]["state"], extra: Partial<PlaySession["session"]> = {}) => ({
  id: "ses_1",
  tenant_id: "ten_1",
  game_id: "gam_1",
  version_id: "ver_1",
  user: "anon:x",
  spec_id: "hd",
  room_id: "room_a",
  board_id: "brd_1",
  state,
  downgraded: false,
  created_at: "2026-01-01T00:00:00.000Z",
  ...extra,
});

/** The controller's player API, scripted. */
class FakeController {
  calls: Call[] = [];
  acquire: AcquireResponse | { problem: { code: string; status: number } } = {
    status: "ASSIGNED",
    session_id: "ses_1",
    room_id: "room_a",
    board_id: "brd_1",
    spec_id: "hd",
    downgraded: false,
    play_key: "pk1_s",
  };
  tickets: Ticket[] = [];
  /** Session states answered in turn (the last repeats); ready/playing carry a fresh token. */
  sessions: PlaySession["session"]["state"][] = ["preparing", "ready"];
  endReason: EndReason = "TRIAL_OVER";
  /** Sessions say they were placed below the game's first spec. */
  downgraded = false;
  tokens = 0;

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url, "https://ctl.example");
    const method = init?.method ?? "GET";
    const headers = (init?.headers ?? {}) as Record<string, string>;
    this.calls.push({ method, path: u.pathname, headers, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const json = (b: unknown, status = 200) => new Response(JSON.stringify(b), { status });
    const p = u.pathname;
    if (p === "/probe") return new Response("");
    if (p === "/v1/play/links/CODE1/cta" && method === "POST") return new Response(null, { status: 204 });
    if (p === "/v1/play/links/CODE1")
      return json({
        code: "CODE1",
        game_id: "gam_1",
        game_name: "Test Game",
        trial_seconds: 300,
        cta: { label: "Install", url: "https://store.example/game" },
        rooms: [{ room_id: "room_a", probe_url: "/probe" }],
      });
    if (p === "/v1/play/saves") {
      return json({
        items: [
          { id: "arc_new", created_at: "2026-01-02T00:00:00.000Z", size_bytes: 2048, pinned: false },
          { id: "arc_old", created_at: "2026-01-01T00:00:00.000Z", size_bytes: 1024, tag: "before the boss", pinned: true },
        ],
      });
    }
    if (p === "/v1/play/acquire") {
      if ("problem" in this.acquire) {
        const { code, status } = this.acquire.problem;
        return json({ type: "x", title: "t", status, code, detail: `refused: ${code}` }, status);
      }
      return json(this.acquire);
    }
    // Tickets and sessions answer only their holder: the play key acquire (or the claim) gave.
    const key = (p.startsWith("/v1/play/tickets/") ? "pk1_t" : "pk1_s");
    const presented = headers.authorization ?? (u.searchParams.get("key") ? `Bearer ${u.searchParams.get("key")}` : undefined);
    if ((p.startsWith("/v1/play/tickets/") || p.startsWith("/v1/play/sessions/")) && presented !== `Bearer ${key}`)
      return json({ type: "x", title: "Forbidden", status: 403, code: "NOT_YOUR_PLAY", detail: `${p}: ${presented}` }, 403);
    if (p.startsWith("/v1/play/tickets/")) {
      if (method === "DELETE") return json({ ...this.tickets[0]!, state: "cancelled" });
      return json(this.tickets.length > 1 ? this.tickets.shift() : this.tickets[0]);
    }
    if (p === "/v1/play/sessions/ses_1") {
      if (method === "DELETE") return json(session("ended", { end_reason: "USER_LEFT" }));
      const st = (this.sessions.length > 1 ? this.sessions.shift() : this.sessions[0])!;
      const extra: Partial<PlaySession["session"]> = this.downgraded ? { downgraded: true, spec_id: "sd" } : {};
      const ps: PlaySession = { session: session(st, st === "ended" ? { ...extra, end_reason: this.endReason } : extra) };
      if (st === "ready" || st === "playing") {
        ps.connect = { signaling_url: "wss://board.example/v1/signal", token: `tok_${++this.tokens}`, expires_at: "2026-01-01T00:01:00.000Z" };
      }
      return json(ps);
    }
    return json({ type: "x", title: "Not found", status: 404, code: "NOT_FOUND", detail: p }, 404);
  };

  count(method: string, path: string) {
    return this.calls.filter((c) => c.method === method && c.path === path).length;
  }
}

function setup(opts: { reconnectGraceMs?: number; freezeMs?: number; locale?: string; env?: Partial<Env> } = {}) {
  const controller = new FakeController();
  const sockets: FakeSocket[] = [];
  const peers: FakePeer[] = [];
  const view = new FakeView();
  const store = new Map<string, string>();
  const clock = fastClock(10);
  const player = createPlayer({} as HTMLElement, {
    apiBase: "https://ctl.example",
    ...opts,
    // the fake view shows frames only when a test says so: no freeze handling unless asked for
    freezeMs: opts.freezeMs ?? 1e9,
    env: {
      fetch: controller.fetch,
      webSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      openEvents: undefined,
      peer: (config) => {
        const p = new FakePeer(config);
        peers.push(p);
        return p as unknown as RTCPeerConnection;
      },
      clock,
      random: Math.random,
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
      view: () => view,
      userAgent: "test-agent",
      platform: "Linux",
      languages: ["en-GB"],
      gamepads: undefined,
      sensors: undefined,
      ...opts.env,
    },
  });
  const events: { name: keyof PlayerEvents; payload: unknown }[] = [];
  for (const name of ["state", "link", "queued", "assigned", "connecting", "playing", "notice", "ended", "error", "warning", "pointerlock"] as const) {
    player.on(name, (payload) => events.push({ name, payload }));
  }
  const states = () => events.filter((e) => e.name === "state").map((e) => e.payload);
  const of = <K extends keyof PlayerEvents>(name: K) => events.filter((e) => e.name === name).map((e) => e.payload as PlayerEvents[K]);
  return { controller, sockets, peers, view, store, clock, player, events, states, of };
}

/** Plays the agent's side of one signaling connection, up to the answer. */
async function agentAccepts(sockets: FakeSocket[], index: number, peers: FakePeer[]) {
  await until(() => sockets.length > index, `signaling socket ${index}`);
  const ws = sockets[index]!;
  ws.open();
  const hello = ws.messages[0]!;
  assert.equal(hello.type, "hello");
  ws.receive({ type: "welcome", session_id: "ses_1", ice_servers: [{ urls: ["stun:stun.example:3478"] }] });
  await until(() => ws.messages.some((m) => m.type === "offer"), "the offer");
  ws.receive({ type: "answer", sdp: "v=0 answer" });
  await until(() => peers.length > index && peers[index]!.channels[0]?.readyState === "open", "the input channel");
  return { ws, hello, peer: peers[index]!, channel: peers[index]!.channels[0]! };
}

async function untilState(player: Player, state: string) {
  await until(() => player.state === state, `state ${state} (is ${player.state})`);
}

test("a link play: card, RTTs, queue, claim, ready, signaling, playing, input, reconnect, leave", async () => {
  const t = setup();
  t.controller.acquire = {
    status: "QUEUED",
    ticket_id: "tkt_1",
    position: 2,
    queue_length: 2,
    eta_secs: 30,
    reason: "ROOM_FULL",
    poll_after_ms: 2000,
    play_key: "pk1_t",
  };
  t.controller.tickets = [
    { id: "tkt_1", state: "waiting", position: 1, queue_length: 1, eta_secs: 10, reason: "ROOM_FULL", poll_after_ms: 2000 },
    { id: "tkt_1", state: "claimed", session_id: "ses_1", play_key: "pk1_s", queue_length: 0, eta_secs: 0, reason: "ROOM_FULL", poll_after_ms: 2000 },
  ];
  let resolved = false;
  const playing = t.player.play({ link: "CODE1" }).then(() => (resolved = true));

  const { ws, hello, peer, channel } = await agentAccepts(t.sockets, 0, t.peers);
  assert.equal(hello.token, "tok_1");
  assert.equal(hello.role, "player");
  assert.equal(ws.url, "wss://board.example/v1/signal");

  // what was asked of the controller
  const acquire = t.controller.calls.find((c) => c.path === "/v1/play/acquire")!;
  const body = acquire.body as Record<string, unknown>;
  assert.equal(body.link, "CODE1");
  assert.match(String(body.device_id), /^[A-Za-z0-9_-]{32}$/);
  assert.equal(t.store.get("playrack.device_id"), body.device_id, "the device id is kept");
  assert.deepEqual(Object.keys(body.rtt_ms as object), ["room_a"]);
  assert.deepEqual(body.device, { user_agent: "test-agent", os: "Linux" });
  assert.match(acquire.headers["Idempotency-Key"]!, /^[A-Za-z0-9_-]{32}$/);
  assert.ok(t.controller.count("GET", "/probe") >= 2, "the room's probe URL was timed");
  assert.deepEqual(
    t.of("queued").map((q) => [q.position, q.queueLength]),
    [
      [2, 2],
      [1, 1],
    ],
  );
  assert.equal(t.of("assigned")[0]!.sessionId, "ses_1");
  assert.equal(t.of("link")[0]!.game_name, "Test Game");

  // the peer: receive-only video and audio, an ordered input channel, the agent's ICE servers
  assert.deepEqual(peer.transceivers, [
    { kind: "video", direction: "recvonly" },
    { kind: "audio", direction: "recvonly" },
  ]);
  assert.equal(channel.label, "input");
  assert.deepEqual(peer.config.iceServers, [{ urls: ["stun:stun.example:3478"] }]);
  assert.equal(peer.remoteDescription?.sdp, "v=0 answer");
  assert.equal(ws.messages.find((m) => m.type === "offer")!.sdp, "v=0 offer");

  // connected but no picture yet: still connecting; the first frame makes it playing
  assert.equal(t.player.state, "connecting");
  assert.equal(resolved, false);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  assert.deepEqual(t.states(), ["connecting", "queued", "connecting", "playing"]);

  // input: a touch through the letterboxing, keys, back
  const g = { rect: { left: 0, top: 0, width: 720, height: 1280 }, videoWidth: 720, videoHeight: 1280 };
  t.view.handlers!.pointer({ type: "down", id: 5, pointerType: "touch", clientX: 360, clientY: 320 }, g);
  assert.equal(t.view.handlers!.key({ type: "keydown", key: "Enter" }), true);
  assert.ok(t.player.back());
  assert.ok(t.player.type("hi"));
  // Chinese through an IME: drafts are not sent, the composition's end is, once
  t.view.handlers!.ime({ type: "input", data: "zhong", inputType: "insertCompositionText", isComposing: true });
  t.view.handlers!.ime({ type: "compositionend", data: "中文" });
  t.player.showKeyboard();
  assert.equal(t.view.keyboardShown, 1);
  assert.ok(t.player.stillHere());
  assert.ok(t.player.setQuality(1500.4));
  assert.ok(t.player.setQuality());
  assert.throws(() => t.player.setQuality(-1), RangeError);
  assert.deepEqual(channel.messages, [
    { t: "touch", phase: "down", pointer: 0, x: 0.5, y: 0.25 },
    { t: "key", action: "down", keycode: 66, meta: 0 },
    { t: "back" },
    { t: "text", text: "hi" },
    { t: "text", text: "中文" },
    { t: "here" },
    { t: "quality", max_kbps: 1500 },
    { t: "quality" },
  ]);
  // the first gesture unmutes (autoplay policy), unless the page chose
  t.view.handlers!.gesture();
  assert.equal(t.view.muted, false);
  t.player.mute(true);
  t.view.handlers!.gesture();
  assert.equal(t.view.muted, true);

  // the agent's stats; malformed messages and a refused input: warnings, the play goes on
  ws.receive({
    type: "stats",
    stats: { bitrate_kbps: 2500, target_kbps: 3000, estimate_kbps: 3600, fps: 60, rtt_ms: 8, loss: 0, width: 720, height: 1280 },
  });
  ws.receive('{"type":"answer"}');
  ws.receive("\u0000garbage");
  ws.receive({ type: "error", code: "INPUT_REFUSED", message: "pointer out of range" });
  assert.equal(t.player.stats().agent?.bitrate_kbps, 2500);
  assert.equal(t.player.stats().agent?.target_kbps, 3000);
  assert.deepEqual(
    t.of("warning").map((w) => w.code),
    ["BAD_SIGNAL", "BAD_SIGNAL", "INPUT_REFUSED"],
  );
  assert.deepEqual(t.of("error"), []);
  assert.equal(t.player.state, "playing");

  // the socket drops: a fresh token, a new connection, playing again
  ws.drop(1006);
  await untilState(t.player, "connecting");
  assert.equal(peer.closed, true);
  assert.ok(t.of("notice").some((n) => n.code === "RECOVERING"));
  const second = await agentAccepts(t.sockets, 1, t.peers);
  assert.equal(second.hello.token, "tok_2", "tokens are single use: the reconnect fetched a new one");
  await until(() => t.view.hasFrameCallback, "frame callback after reconnect");
  t.view.frame(t.clock.now());
  await untilState(t.player, "playing");
  assert.ok(t.of("notice").some((n) => n.code === "RECOVERED"));
  assert.equal(t.of("playing").length, 2);

  // leave: bye to the agent, DELETE the session, ended USER_LEFT with the link's call to action
  await t.player.leave();
  assert.deepEqual(second.ws.messages.at(-1), { type: "bye" });
  assert.equal(t.controller.count("DELETE", "/v1/play/sessions/ses_1"), 1);
  assert.equal(t.player.state, "ended");
  assert.deepEqual(t.of("ended"), [{ reason: "USER_LEFT", text: "You left the game.", cta: { label: "Install", url: "https://store.example/game" } }]);
  // the player follows the call to action: the click is counted, once, surviving the page
  t.player.ctaClicked();
  await until(() => t.controller.count("POST", "/v1/play/links/CODE1/cta") === 1, "the conversion");
  assert.equal(second.peer.closed, true);
});

test("a player-token play that the agent ends (trial over)", async () => {
  const t = setup();
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "signed.token" });
  const { ws, peer } = await agentAccepts(t.sockets, 0, t.peers);
  const body = t.controller.calls.find((c) => c.path === "/v1/play/acquire")!.body as Record<string, unknown>;
  assert.equal(body.game_id, "gam_1");
  assert.equal(body.player_token, "signed.token");
  assert.equal(body.link, undefined);
  assert.equal(t.controller.count("GET", "/v1/play/links/CODE1"), 0);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  ws.receive({ type: "ended", reason: "TRIAL_OVER" });
  assert.equal(t.player.state, "ended");
  assert.deepEqual(t.of("ended"), [{ reason: "TRIAL_OVER", text: "Your free trial is over." }]);
  assert.equal(peer.closed, true);
  // a play can start again afterwards, with a fresh token
  const again = t.player.play({ game: "gam_1", playerToken: "signed.token" });
  const second = await agentAccepts(t.sockets, 1, t.peers);
  assert.equal(second.hello.token, "tok_2");
  t.view.frame(t.clock.now());
  await again;
  assert.equal(t.player.state, "playing");
  await t.player.leave();
});

test("a refused acquire is a fatal error with the controller's code; play() rejects", async () => {
  const t = setup();
  t.controller.acquire = { problem: { code: "LINK_EXPIRED", status: 410 } };
  await assert.rejects(t.player.play({ link: "CODE1" }), (e: unknown) => e instanceof PlayrackError && e.code === "LINK_EXPIRED");
  assert.equal(t.player.state, "error");
  assert.deepEqual(t.of("error"), [{ code: "LINK_EXPIRED", message: "refused: LINK_EXPIRED", text: "This link has expired.", fatal: true }]);
  // and a second play() while one runs is refused
  t.controller.acquire = { status: "ASSIGNED", session_id: "ses_1", room_id: "r", board_id: "b", spec_id: "s", downgraded: false, play_key: "pk1_s" };
  const p = t.player.play({ link: "CODE1" });
  await assert.rejects(t.player.play({ link: "CODE1" }), (e: unknown) => e instanceof PlayrackError && e.code === "INVALID_STATE");
  await t.player.leave();
  await assert.rejects(p, (e: unknown) => e instanceof PlayrackError);
});

test("the events say it in the player's language: the option, else the browser's", async () => {
  // the browser prefers Taiwanese Chinese: the SDK speaks its one Chinese
  const zh = setup({ env: { languages: ["zh-TW", "en"] } });
  assert.equal(zh.player.locale, "zh-CN");
  zh.controller.acquire = { problem: { code: "NO_CAPACITY", status: 503 } };
  await assert.rejects(zh.player.play({ link: "CODE1" }));
  assert.deepEqual(zh.of("error"), [{ code: "NO_CAPACITY", message: "refused: NO_CAPACITY", text: "暂时没有可用的游戏服务器。", fatal: true }]);

  // the option beats the browser; an unknown reason still says something, with its code
  const en = setup({ locale: "en", env: { languages: ["zh-CN"] } });
  assert.equal(en.player.locale, "en");
  en.controller.sessions = ["ready"];
  const playing = en.player.play({ game: "gam_1", playerToken: "tok" });
  const { ws } = await agentAccepts(en.sockets, 0, en.peers);
  await until(() => en.view.hasFrameCallback, "frame callback");
  en.view.frame(en.clock.now());
  await playing;
  ws.receive({ type: "notice", code: "IDLE_WARNING", message: "idle for 240 s" });
  ws.receive({ type: "ended", reason: "SOMETHING_NEW" });
  assert.deepEqual(en.of("notice"), [{ code: "IDLE_WARNING", message: "idle for 240 s", text: "Still there? The game ends soon if nothing happens." }]);
  assert.deepEqual(en.of("ended"), [{ reason: "SOMETHING_NEW", text: "The game ended (SOMETHING_NEW)." }]);
});

test("maintenance ahead says the minutes left, and says it again as they go down", async () => {
  const t = setup({ locale: "en" });
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  const { ws } = await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  const at = new Date(Date.now() + 4.5 * 60_000).toISOString();
  ws.receive({ type: "notice", code: "MAINTENANCE", message: "power work", at });
  const first = t.of("notice")[0]!;
  assert.deepEqual(first, {
    code: "MAINTENANCE",
    message: "power work",
    at,
    text: "This game server goes into maintenance in 5 min: your game ends then, and your progress is saved.",
  });
  // told again on the SDK's clock (15 s of it: 1.5 s here), with the time it names
  await until(() => t.of("notice").length >= 2, "the notice told again");
  assert.equal(t.of("notice")[1]!.at, at);
  ws.receive({ type: "ended", reason: "MAINTENANCE" });
  assert.equal(t.of("ended")[0]!.text, "The game server went into maintenance. Please come back later.");
});

test("a play placed below the game's first spec tells the player once, in their language", async () => {
  const t = setup({ locale: "zh-CN" });
  t.controller.downgraded = true;
  t.controller.sessions = ["preparing", "preparing", "ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  assert.deepEqual(t.of("notice"), [
    { code: "DOWNGRADED", message: "playing at sd", text: "服务器繁忙，暂以较低画质游戏。" },
  ]);
  await t.player.leave();
});

test("cancel while queued leaves the line and goes back to idle", async () => {
  const t = setup();
  t.controller.acquire = { status: "QUEUED", ticket_id: "tkt_1", position: 4, queue_length: 4, eta_secs: 90, reason: "TENANT_QUOTA_FULL", poll_after_ms: 10000, play_key: "pk1_t" };
  t.controller.tickets = [{ id: "tkt_1", state: "waiting", position: 4, queue_length: 4, eta_secs: 90, reason: "TENANT_QUOTA_FULL", poll_after_ms: 10000 }];
  const p = t.player.play({ link: "CODE1" });
  await untilState(t.player, "queued");
  assert.equal(t.of("queued")[0]!.reason, "TENANT_QUOTA_FULL");
  await t.player.cancel();
  await assert.rejects(p, (e: unknown) => e instanceof PlayrackError && e.code === "CANCELLED");
  assert.equal(t.controller.count("DELETE", "/v1/play/tickets/tkt_1"), 1);
  assert.equal(t.player.state, "idle");
  assert.deepEqual(t.of("ended"), []);
  const polls = t.controller.count("GET", "/v1/play/tickets/tkt_1");
  await new Promise((r) => setTimeout(r, 1100)); // 11 s of player time: two poll intervals
  assert.equal(t.controller.count("GET", "/v1/play/tickets/tkt_1"), polls, "no polling after cancel");
});

test("a drop after the session ended on the controller ends the play with its reason", async () => {
  const t = setup();
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  const { ws } = await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  t.controller.sessions = ["ended"];
  t.controller.endReason = "BOARD_LOST";
  ws.drop(1006);
  await untilState(t.player, "ended");
  assert.deepEqual(t.of("ended"), [{ reason: "BOARD_LOST", text: "We lost the connection to the game server." }]);
  assert.equal(t.sockets.length, 1, "no new connection to an ended session");
});

test("reconnecting gives up after the grace window with CONNECTION_LOST", async () => {
  const t = setup({ reconnectGraceMs: 3000 });
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  const { peer } = await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  // ICE fails; every new socket is dropped before the welcome
  const drop = setInterval(() => t.sockets.filter((s) => !s.closed && s !== t.sockets[0]).forEach((s) => s.drop(1006)), 1);
  try {
    peer.fail();
    await untilState(t.player, "error");
  } finally {
    clearInterval(drop);
  }
  const fatal = t.of("error").filter((e) => e.fatal);
  assert.deepEqual(
    fatal.map((e) => e.code),
    ["CONNECTION_LOST"],
  );
  assert.ok(t.sockets.length >= 3, `retried with backoff (${t.sockets.length} sockets)`);
  // each attempt fetched its own token
  assert.ok(t.controller.count("GET", "/v1/play/sessions/ses_1") >= t.sockets.length);
});

test("a frozen picture is reported as recovering, then recovered", async () => {
  const t = setup({ freezeMs: 2000 });
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  const { peer } = await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  peer.framesDecoded = 10;
  t.view.frame(t.clock.now());
  await playing;
  // frames stop: after 2 s of player time (200 ms real) the stats tick notices
  await until(() => t.of("notice").some((n) => n.code === "RECOVERING"), "a RECOVERING notice");
  assert.equal(t.player.state, "playing");
  t.view.frame(t.clock.now());
  assert.ok(t.of("notice").some((n) => n.code === "RECOVERED"));
  await t.player.leave();
});

test("probeLatency times the probe square's flips", async () => {
  const t = setup();
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  const { channel } = await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  // the "game": a frame every 2 ms; a probe flips the square two frames later
  let seen = 0;
  let flipIn = -1;
  const frames = setInterval(() => {
    const probes = channel.messages.filter((m) => m.t === "probe").length;
    if (probes > seen) {
      seen = probes;
      flipIn = 2;
    }
    if (flipIn === 0) t.view.lit = !t.view.lit;
    if (flipIn >= 0) flipIn--;
    t.view.frame(t.clock.now());
  }, 2);
  try {
    const samples = await t.player.probeLatency(3);
    assert.equal(samples.length, 3);
    assert.ok(samples.every((s) => s > 0 && s < 2000), String(samples));
    assert.deepEqual(
      channel.messages.filter((m) => m.t === "probe").map((m) => m.seq),
      [1, 2, 3],
    );
    assert.equal(t.player.stats().lastInputToFrameMs, samples[2]);
    // every result went to the board, with its probe's seq
    const reported = channel.messages.filter((m) => m.t === "latency");
    assert.deepEqual(
      reported.map((m) => m.seq),
      [1, 2, 3],
    );
    reported.forEach((m, i) => assert.ok(Math.abs(Number(m.ms) - samples[i]!) <= 0.05, JSON.stringify(m)));
  } finally {
    clearInterval(frames);
  }
  await t.player.leave();
  await assert.rejects(t.player.probeLatency(1), (e: unknown) => e instanceof PlayrackError && e.code === "INVALID_STATE");
});

test("a player replaced by another connection ends without taking the stream back", async () => {
  const t = setup();
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  const { ws } = await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  ws.receive({ type: "notice", code: "REPLACED", message: "the player connected again elsewhere" });
  ws.drop(1000);
  assert.equal(t.player.state, "ended");
  assert.deepEqual(t.of("ended"), [{ reason: "REPLACED", text: "You started this game again somewhere else." }]);
  assert.equal(t.controller.count("DELETE", "/v1/play/sessions/ses_1"), 0, "the other connection keeps the session");
  await new Promise((r) => setTimeout(r, 200)); // 2 s of player time: any reconnect would have started
  assert.equal(t.sockets.length, 1);
});

test("gamepads, a locked mouse and the phone's sensors reach the game on their channels", async () => {
  const pad: GamepadLike & { axes: number[] } = {
    index: 0,
    id: "Pad (STANDARD GAMEPAD Vendor: 045e Product: 028e)",
    connected: true,
    buttons: Array.from({ length: 17 }, () => ({ pressed: false, value: 0 })),
    axes: [0, 0, 0, 0],
  };
  let pads: (GamepadLike | null)[] = [pad];
  let motionOn: { motion(ev: MotionSample): void; orientation(ev: OrientationSample): void } | undefined;
  let positionOn: ((p: PositionSample) => void) | undefined;
  let asked = 0;
  const t = setup({
    env: {
      gamepads: () => pads,
      sensors: {
        requestMotion: async () => (asked++, true),
        watchMotion: (on) => ((motionOn = on), () => (motionOn = undefined)),
        watchPosition: (on) => ((positionOn = on), () => (positionOn = undefined)),
      },
    },
  });
  t.controller.sessions = ["ready"];
  const playing = t.player.play({ game: "gam_1", playerToken: "tok" });
  const { peer, channel } = await agentAccepts(t.sockets, 0, t.peers);
  const sensors = peer.channels.find((c) => c.label === "sensors")!;
  assert.ok(sensors, "a sensors channel beside input");
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;

  // the pad as it is, once; then only what changes
  await until(() => channel.messages.some((m) => m.t === "gamepad"), "the pad's state");
  pad.buttons[0]!.pressed = true;
  pad.buttons[7]!.value = 0.5;
  pad.axes[0] = -1;
  await until(() => channel.messages.filter((m) => m.t === "gamepad").length === 2, "the pad's change");
  pads = [];
  await until(() => channel.messages.some((m) => m.t === "gamepad_gone"), "the pad unplugged");
  assert.deepEqual(
    channel.messages.filter((m) => m.t === "gamepad" || m.t === "gamepad_gone"),
    [
      { t: "gamepad", pad: 0, buttons: 0, axes: [0, 0, 0, 0], triggers: [0, 0], vendor: 0x045e, product: 0x028e },
      { t: "gamepad", pad: 0, buttons: 1, axes: [-1, 0, 0, 0], triggers: [0, 0.5], vendor: 0x045e, product: 0x028e },
      { t: "gamepad_gone", pad: 0 },
    ],
  );

  // pointer lock: the mouse moves relatively
  assert.equal(await t.player.lockPointer(), true);
  assert.deepEqual(t.of("pointerlock"), [{ locked: true }]);
  t.view.handlers!.relative({ dx: 12.4, dy: -9000, buttons: 1, wheel: 0 });
  assert.deepEqual(channel.messages.at(-1), { t: "mouse", dx: 12, dy: -4096, buttons: 1 });
  t.player.unlockPointer();
  assert.deepEqual(t.of("pointerlock").at(-1), { locked: false });

  // sensors go on their own channel, each kind at most every 50 ms
  assert.deepEqual(await t.player.enableSensors({ location: true }), { motion: true, location: true });
  assert.equal(asked, 1);
  const motion = { accelerationIncludingGravity: { x: 0, y: 9.81, z: 0 }, rotationRate: { alpha: 180, beta: 0, gamma: 0 } };
  motionOn!.motion(motion);
  motionOn!.motion(motion);
  motionOn!.orientation({ alpha: 90, beta: 10, gamma: -5 });
  positionOn!({ latitude: 31.23, longitude: 121.47, accuracy: 15 });
  const readings = sensors.messages;
  assert.equal(readings.filter((m) => m.kind === "accelerometer").length, 1, "throttled");
  assert.deepEqual(readings.find((m) => m.kind === "gyroscope")!.values, [0, 0, Math.PI]);
  assert.deepEqual(readings.find((m) => m.kind === "orientation")!.values, [270, -10, -5]);
  assert.deepEqual(readings.at(-1), { t: "location", lat: 31.23, lon: 121.47, accuracy: 15 });
  assert.ok(!channel.messages.some((m) => m.t === "sensor" || m.t === "location"), "never on the input channel");
  t.player.disableSensors();
  assert.equal(motionOn, undefined);
  assert.equal(positionOn, undefined);
  await t.player.leave();
});

test("the player's saves are listed for this device, and a play restores the chosen one", async () => {
  const t = setup();
  t.controller.sessions = ["ready"];
  const saves = await t.player.listSaves({ link: "CODE1" });
  assert.deepEqual(saves.map((s) => s.id), ["arc_new", "arc_old"]);
  const asked = t.controller.calls.find((c) => c.path === "/v1/play/saves")!.body as Record<string, unknown>;
  assert.equal(asked.link, "CODE1");
  assert.match(String(asked.device_id), /^[A-Za-z0-9_-]{32}$/, "this device's id: its saves only");
  await t.player.listSaves({ game: "gam_1", playerToken: "signed.token" });
  assert.deepEqual(t.controller.calls.filter((c) => c.path === "/v1/play/saves").at(-1)!.body, {
    game_id: "gam_1",
    player_token: "signed.token",
  });
  const playing = t.player.play({ link: "CODE1" }, { archiveId: "arc_old" });
  await agentAccepts(t.sockets, 0, t.peers);
  await until(() => t.view.hasFrameCallback, "frame callback");
  t.view.frame(t.clock.now());
  await playing;
  const acquire = t.controller.calls.find((c) => c.path === "/v1/play/acquire")!.body as Record<string, unknown>;
  assert.equal(acquire.archive_id, "arc_old");
  await t.player.leave();
});
