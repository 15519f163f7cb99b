/**
 * The player: one object per embedded game view. `play()` runs the whole try-play flow —
 * link card and room RTTs, acquire, the queue, waiting for the instance, signaling and WebRTC,
 * input, stats, latency probes, reconnects inside a grace window — and reports it as events
 * and a `state`. Every outside dependency (fetch, WebSocket, EventSource, RTCPeerConnection,
 * the clock, storage, the DOM view) comes from an {@link Env}, so the flow is tested in Node.
 */
import { ApiClient, type FetchFn } from "./api.js";
import { aborted, realClock, sleep, withTimeout, type Clock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { PlayrackError, SdkCode, asPlayrackError } from "./errors.js";
import {
  MAX_CLIPBOARD_BYTES,
  MAX_CUSTOM_BYTES,
  MAX_INPUT_MESSAGE_BYTES,
  MAX_LATENCY_MS,
  type AcquireRequest,
  type AgentSignal,
  type CallToAction,
  type ConnectInfo,
  type InputMessage,
  type LinkCard,
  type PlaySession,
  type PlayerSave,
  type SavesRequest,
  type Ticket,
} from "./generated/wire.js";
import { GamepadTracker, type GamepadLike } from "./gamepad.js";
import { TouchTracker, relativeToMouse, wheelToScroll, type Rotation } from "./input.js";
import { imeToMessages, keyToMessages, textMessages } from "./keys.js";
import { endedText, errorText, noticeText, pickLocale, type Locale } from "./messages.js";
import { addRemoteCandidate, negotiate, type PeerFactory } from "./peer.js";
import { runProbes, type ProbeFrame } from "./probe.js";
import { browserSensors, SensorFeed, type SensorSource } from "./sensors.js";
import { eventSourceOpener, followTicket, type Follow, type OpenEvents } from "./queue.js";
import { DEFAULT_RECONNECT, decideReconnect, type ReconnectPolicy } from "./reconnect.js";
import { measureRooms } from "./rtt.js";
import { SessionEnded, waitForConnect } from "./session.js";
import { Signaling, type SocketFactory } from "./signaling.js";
import { CaptureTimes, StatsTracker, type PlayerStats, type SourceEntry, type StatsEntry } from "./stats.js";
import { createDomView, type View } from "./view.js";

export type PlayerState = "idle" | "queued" | "connecting" | "playing" | "ended" | "error";

export interface PlayerEvents {
  state: PlayerState;
  /** The try-play link's card (game name, icon, trial length, call to action). */
  link: LinkCard;
  queued: { ticketId: string; position: number; queueLength: number; etaSecs: number; reason: string; promoted: boolean };
  assigned: { sessionId: string };
  connecting: { sessionId: string; attempt: number };
  playing: { sessionId: string };
  stats: PlayerStats;
  /**
   * The game copied text to the device's clipboard. Browsers let a page write the clipboard only
   * during the player's gesture, so the page decides: show it, or write it on the next tap
   * (`navigator.clipboard.writeText`).
   */
  clipboard: { text: string };
  /** The game's message for the page (the custom channel: see `sendCustom`). */
  custom: { data: string };
  /** The picture took or lost pointer lock (`lockPointer`; the player's Esc releases it). */
  pointerlock: { locked: boolean };
  /**
   * The agent's notices (e.g. maintenance), and the SDK's own `RECOVERING` / `RECOVERED` /
   * `DOWNGRADED`.
   * `message` is the technical account (English, for logs); `text` says it to the player in
   * the player's `locale`. A notice of something at a known time carries it as `at` (RFC
   * 3339): maintenance says how many minutes are left, and is told again as they go down.
   */
  notice: { code: string; message: string; text: string; at?: string };
  /** The play ended for `reason` (a stable code); `text` says why in the player's `locale`. */
  ended: { reason: string; text: string; cta?: CallToAction };
  /** The play failed (state `error`): `code` is stable, `text` is for the player. */
  error: { code: string; message: string; text: string; fatal: true };
  /**
   * Something went wrong that does not end the play: a malformed agent message (`BAD_SIGNAL`),
   * the agent refusing an input message, …
   */
  warning: { code: string; message: string; text: string };
}

/** What a play starts from: a try-play link, or a game and a token the tenant's backend signed. */
export type PlayTarget = { link: string } | { game: string; playerToken: string };

/** How a play starts. */
export interface PlayOptions {
  /** Restore this save (one of `listSaves`) instead of the newest. */
  archiveId?: string;
}

export interface PlayerOptions {
  /** The controller's URL; default the page's own origin. */
  apiBase?: string;
  /** The device's anonymous id (16–64 of `A-Za-z0-9_-`); default a random one kept in localStorage. */
  deviceId?: string;
  /** A preferred spec id. */
  specId?: string;
  /** A preferred region. */
  region?: string;
  /** How long to keep trying to reconnect after a drop. Default 30 s. */
  reconnectGraceMs?: number;
  /** How often `stats` is emitted. Default 1 s. */
  statsIntervalMs?: number;
  /** No new frame for this long while connected counts as a freeze. Default 2 s. */
  freezeMs?: number;
  /** Clockwise rotation of the picture in the container. Default 0. */
  rotation?: Rotation;
  /** Forward the keyboard (when the container has focus). Default true. */
  keyboard?: boolean;
  /** Forward the player's gamepads (the Gamepad API) while playing. Default true. */
  gamepad?: boolean;
  /**
   * Show each frame as soon as it is decoded: the browser's jitter buffer holds nothing back,
   * and the board marks its video `playout-delay` 0. Default true. `false` keeps the
   * browser's own buffering: smoother on a jittery network, at the cost of latency.
   */
  lowLatency?: boolean;
  /**
   * The language of the `text` the `error`, `notice`, `warning` and `ended` events carry:
   * `"en"` or `"zh-CN"` (any Chinese tag picks `zh-CN`), or tags in order of preference.
   * Default the browser's languages (`navigator.languages`), else English.
   */
  locale?: string | readonly string[];
  /** Replaces browser dependencies (tests, unusual embeddings). */
  env?: Partial<Env>;
}

export interface Env {
  fetch: FetchFn;
  webSocket: SocketFactory;
  /** Absent: the queue is polled only. */
  openEvents: OpenEvents | undefined;
  peer: PeerFactory;
  clock: Clock;
  /** 0..1. */
  random: () => number;
  storage: Pick<Storage, "getItem" | "setItem"> | undefined;
  view: (container: HTMLElement, rotation: Rotation) => View;
  userAgent: string;
  platform: string | undefined;
  /** The browser's languages in order of preference (`navigator.languages`). */
  languages: readonly string[];
  /** `navigator.getGamepads`; absent: no gamepads. */
  gamepads: (() => readonly (GamepadLike | null)[]) | undefined;
  /** The phone's motion sensors and Geolocation; absent: none. */
  sensors: SensorSource | undefined;
}

/** How often a notice of maintenance ahead is told again with the minutes left, in ms. */
const COUNTDOWN_EVERY_MS = 15_000;

/** How often connected gamepads are read while playing, in ms (about once a frame). */
const GAMEPAD_POLL_MS = 16;

function browserEnv(): Env {
  const g = globalThis as typeof globalThis & { navigator?: Navigator & { userAgentData?: { platform?: string } } };
  let storage: Env["storage"];
  try {
    storage = g.localStorage;
  } catch {
    storage = undefined;
  }
  return {
    fetch: (input, init) => g.fetch(input, init),
    webSocket: (url) => new WebSocket(url) as unknown as ReturnType<SocketFactory>,
    openEvents: typeof EventSource === "function" ? eventSourceOpener(EventSource) : undefined,
    peer: (config) => new RTCPeerConnection(config),
    clock: realClock,
    random: Math.random,
    storage,
    view: createDomView,
    userAgent: g.navigator?.userAgent ?? "",
    languages: g.navigator?.languages ?? (g.navigator?.language ? [g.navigator.language] : []),
    platform: g.navigator?.userAgentData?.platform || g.navigator?.platform || undefined,
    gamepads: typeof g.navigator?.getGamepads === "function" ? () => g.navigator!.getGamepads() : undefined,
    sensors: browserSensors(),
  };
}

const DEVICE_KEY = "playrack.device_id";
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function randomId(random: () => number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ID_ALPHABET[Math.floor(random() * 64) % 64];
  return s;
}

/** Crypto-strength randomness where the browser has it. */
function strongRandom(): () => number {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues) {
    return () => c.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
  }
  return Math.random;
}

/** The device id: the option, else the stored one, else a new random one (then stored). */
export function resolveDeviceId(option: string | undefined, storage: Env["storage"], random: () => number): string {
  const valid = (s: string | null | undefined): s is string => !!s && /^[A-Za-z0-9_-]{16,64}$/.test(s);
  if (option !== undefined) {
    if (!valid(option)) throw new PlayrackError("INVALID_DEVICE_ID", "deviceId must be 16–64 of A-Z a-z 0-9 - _");
    return option;
  }
  let stored: string | null = null;
  try {
    stored = storage?.getItem(DEVICE_KEY) ?? null;
  } catch {
    stored = null;
  }
  if (valid(stored)) return stored;
  const id = randomId(random, 32);
  try {
    storage?.setItem(DEVICE_KEY, id);
  } catch {
    /* private mode: a fresh id each visit */
  }
  return id;
}

/** One connection to the agent (signaling + peer), replaced on reconnect. */
interface Connection {
  signaling: Signaling;
  pc?: RTCPeerConnection;
  input?: RTCDataChannel;
  sensors?: RTCDataChannel;
  stopFrames?: () => void;
  answer?: (sdp: string) => void;
  /** Fails the connection attempt while it is being established. */
  fail?: (e: PlayrackError) => void;
  candidates: string[];
  /** The peer is up: later drops reconnect. */
  established: boolean;
  closed: boolean;
}

export class Player {
  private readonly emitter = new Emitter<PlayerEvents>();
  private readonly env: Env;
  private readonly api: ApiClient;
  private readonly view: View;
  private readonly touches = new TouchTracker();
  private readonly tracker = new StatsTracker();
  private readonly policy: ReconnectPolicy;
  private readonly unbindInput: () => void;
  private readonly deviceId: string;
  /** The language of the texts the events carry (see `PlayerOptions.locale`). */
  readonly locale: Locale;
  private readonly gamepads = new GamepadTracker();
  private gamepadTimer: unknown;
  private stopSensors: (() => void)[] = [];

  private _state: PlayerState = "idle";
  private playAbort: AbortController | undefined;
  private follow: Follow | undefined;
  private ticketId: string | undefined;
  private sessionId: string | undefined;
  private card: LinkCard | undefined;
  private conn: Connection | undefined;
  private statsTimer: unknown;
  /** Re-tells a notice of something at a known time as the minutes left go down. */
  private countdown: unknown;
  private everPlayed = false;
  private frozen = false;
  private reconnecting = false;
  private userMuted: boolean | undefined;
  private probeSeq = 0;
  private frameWaiters: ((f: ProbeFrame) => void)[] = [];
  private resolvePlaying: (() => void) | undefined;
  private rejectPlaying: ((e: PlayrackError) => void) | undefined;

  constructor(
    container: HTMLElement,
    private readonly options: PlayerOptions = {},
  ) {
    const env: Env = { ...browserEnv(), ...options.env };
    if (!options.env?.random) env.random = strongRandom();
    this.env = env;
    this.api = new ApiClient(options.apiBase ?? "", env.fetch, env.clock);
    this.policy = { ...DEFAULT_RECONNECT, ...(options.reconnectGraceMs !== undefined ? { graceMs: options.reconnectGraceMs } : {}) };
    this.deviceId = resolveDeviceId(options.deviceId, env.storage, env.random);
    this.locale = pickLocale(options.locale ?? env.languages);
    this.view = env.view(container, options.rotation ?? 0);
    this.unbindInput = this.view.bindInput({
      pointer: (ev, g) => {
        const m = this.touches.handle(ev, g);
        if (m) this.send(m);
      },
      key: (ev) => {
        if (this.options.keyboard === false || this._state !== "playing") return false;
        const { messages, consumed } = keyToMessages(ev);
        for (const m of messages) this.send(m);
        return consumed;
      },
      ime: (ev) => {
        if (this.options.keyboard === false || this._state !== "playing") return;
        for (const m of imeToMessages(ev)) this.send(m);
      },
      wheel: (ev, g) => {
        if (this._state !== "playing") return;
        const m = wheelToScroll(ev, g);
        if (m) this.send(m);
      },
      relative: (ev) => {
        if (this._state === "playing") this.send(relativeToMouse(ev));
      },
      pointerLock: (locked) => this.emitter.emit("pointerlock", { locked }),
      gesture: () => {
        if (this.userMuted === undefined) this.view.setMuted(false);
      },
      blur: () => {
        for (const m of this.touches.cancelAll()) this.send(m);
      },
    });
  }

  get state(): PlayerState {
    return this._state;
  }

  /** The current session id, once assigned. */
  get session(): string | undefined {
    return this.sessionId;
  }

  on<K extends keyof PlayerEvents>(event: K, listener: (p: PlayerEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  off<K extends keyof PlayerEvents>(event: K, listener: (p: PlayerEvents[K]) => void): void {
    this.emitter.off(event, listener);
  }

  /**
   * Starts a play; resolves once the picture is playing. Rejects with a PlayrackError when the
   * play fails, ends or is cancelled first (the same outcome is also emitted as events).
   */
  play(target: PlayTarget, options: PlayOptions = {}): Promise<void> {
    if (this._state !== "idle" && this._state !== "ended" && this._state !== "error") {
      return Promise.reject(new PlayrackError(SdkCode.INVALID_STATE, `cannot play while ${this._state}`));
    }
    this.resetPlay();
    const abort = new AbortController();
    this.playAbort = abort;
    const playing = new Promise<void>((resolve, reject) => {
      this.resolvePlaying = resolve;
      this.rejectPlaying = reject;
    });
    playing.catch(() => undefined); // also reported as events: never an unhandled rejection
    this.setState("connecting");
    this.run(target, options, abort.signal).catch((e: unknown) => this.onFlowError(e, abort.signal));
    return playing;
  }

  /** Leaves the queue (state back to `idle`; `play()` rejects with `CANCELLED`), or the play once assigned. */
  async cancel(): Promise<void> {
    if (this.sessionId) return this.leave();
    if (this._state === "idle" || this._state === "ended" || this._state === "error") return;
    const ticket = this.ticketId;
    this.playAbort?.abort(new PlayrackError(SdkCode.CANCELLED, "cancelled"));
    this.follow?.stop();
    if (ticket) await this.api.cancelTicket(ticket).catch(() => undefined);
    this.closeConnection();
    this.setState("idle");
    this.rejectPlaying?.(new PlayrackError(SdkCode.CANCELLED, "cancelled"));
    this.clearPlayPromise();
  }

  /**
   * The player's own saves of the game (newest first, those its boards can restore): for a
   * save picker before `play(target, { archiveId })`. The player is this device (a link) or
   * the token's player; nobody sees another player's saves. Empty for a game that keeps none.
   */
  async listSaves(target: PlayTarget): Promise<PlayerSave[]> {
    const body: SavesRequest =
      "link" in target ? { link: target.link, device_id: this.deviceId } : { game_id: target.game, player_token: target.playerToken };
    return (await this.api.saves(body)).items;
  }

  /**
   * Counts the player's click on the link's call to action (the `ended` event's `cta`) among
   * the link's conversions, which its publisher sees per day and campaign. Call it as the
   * player follows `cta.url`; it never throws, and does nothing without a link that has one.
   */
  ctaClicked(): void {
    const card = this.card;
    if (!card?.cta) return;
    this.api.cta(card.code).catch(() => undefined);
  }

  /** Ends the play: says bye to the agent, frees the instance, emits `ended` (`USER_LEFT`). */
  async leave(): Promise<void> {
    const id = this.sessionId;
    if (!id) return this.cancel();
    if (this._state === "ended" || this._state === "error") return;
    this.playAbort?.abort(new PlayrackError(SdkCode.CANCELLED, "left"));
    this.conn?.signaling.send({ type: "bye" });
    this.closeConnection();
    await this.api.leave(id).catch(() => undefined);
    this.finishEnded("USER_LEFT");
  }

  /** Mutes (default) or unmutes the game's audio. Unmute from a user gesture (autoplay policy). */
  mute(muted = true): void {
    this.userMuted = muted;
    this.view.setMuted(muted);
  }

  /** The latest stream statistics. */
  stats(): PlayerStats {
    return this.tracker.get();
  }

  /** Presses the Android back button. */
  back(): boolean {
    return this.send({ t: "back" });
  }


  /**
   * Answers the board's idle warning (a `notice` with code `IDLE_WARNING`): the player is still
   * there, so the idle kick starts over. Nothing reaches the game.
   */
  stillHere(): boolean {
    return this.send({ t: "here" });
  }

  /**
   * Caps the video's bit rate at `maxKbps` (a data saver), or lifts the cap. The board keeps
   * the rate inside the game's spec whatever is asked, and below what the link carries; the
   * rate in force is `stats().agent.target_kbps`.
   */
  setQuality(maxKbps?: number): boolean {
    if (maxKbps === undefined) return this.send({ t: "quality" });
    if (!Number.isFinite(maxKbps) || maxKbps < 0 || maxKbps > 0xffffffff) {
      throw new RangeError(`maxKbps must be a number of kb/s, not ${maxKbps}`);
    }
    return this.send({ t: "quality", max_kbps: Math.round(maxKbps) });
  }

  /**
   * Opens the phone's soft keyboard for the game (a game's "enter your nickname" field): call it
   * from a tap's handler, as browsers open keyboards only for a user's gesture. What is typed —
   * through an IME too, as Chinese is — goes to the focused Android field.
   */
  showKeyboard(): void {
    this.view.showKeyboard();
  }

  /**
   * Puts `text` on the device's clipboard (what the player copied on their side, a gift code);
   * with `paste`, also pastes it into the game's focused field. False when it is longer than
   * MAX_CLIPBOARD_BYTES (UTF-8) or the input channel is not open.
   */
  setClipboard(text: string, { paste = false }: { paste?: boolean } = {}): boolean {
    if (new TextEncoder().encode(text).length > MAX_CLIPBOARD_BYTES) return false;
    return this.send({ t: "clipboard", text, paste });
  }

  /**
   * Sends the game a message of the page's own (the custom channel: a level to load, a
   * purchase to confirm); the game's answers arrive as `custom` events. At most
   * MAX_CUSTOM_BYTES of UTF-8 (false past it, or when the input channel is not open). Boards
   * running scrcpy's own server instead of Playrack's injector have no such channel: the
   * board answers with a `CUSTOM_UNSUPPORTED` warning.
   */
  sendCustom(data: string): boolean {
    if (new TextEncoder().encode(data).length > MAX_CUSTOM_BYTES) return false;
    return this.send({ t: "custom", data });
  }

  /**
   * Captures the mouse for the game (mouse-look): the picture takes pointer lock and the
   * mouse's motion, buttons and wheel reach the game as a mouse it can capture, not as
   * touches. Call it from a click's handler (browsers lock only on a gesture); the player's
   * Esc releases it. Resolves whether the lock holds; `pointerlock` events follow it.
   */
  lockPointer(): Promise<boolean> {
    return this.view.lockPointer();
  }

  /** Releases pointer lock: the mouse touches the picture again. */
  unlockPointer(): void {
    this.view.unlockPointer();
  }

  /**
   * Sends the phone's sensors (`motion`: accelerometer, gyroscope, orientation) and position
   * (`location`: Geolocation, which the browser asks the player for) to the game while the
   * play lasts. Call it from a tap's handler: iOS asks for motion permission only then.
   * Resolves with what is on; boards without Playrack's injector answer with a
   * `SENSORS_UNSUPPORTED` warning.
   */
  async enableSensors({ motion = true, location = false }: { motion?: boolean; location?: boolean } = {}): Promise<{
    motion: boolean;
    location: boolean;
  }> {
    this.disableSensors();
    const source = this.env.sensors;
    const on = { motion: false, location: false };
    if (!source) return on;
    const feed = new SensorFeed(
      (m) => this.sendOn(this.conn?.sensors, m),
      () => this.env.clock.now(),
    );
    if (motion && (await source.requestMotion())) {
      this.stopSensors.push(source.watchMotion({ motion: (e) => feed.motion(e), orientation: (e) => feed.orientation(e) }));
      on.motion = true;
    }
    if (location && source.watchPosition) {
      this.stopSensors.push(
        source.watchPosition(
          (p) => feed.position(p),
          (message) => this.warn("LOCATION_UNAVAILABLE", message),
        ),
      );
      on.location = true;
    }
    return on;
  }

  /** Stops sending sensor and location readings. */
  disableSensors(): void {
    for (const stop of this.stopSensors.splice(0)) stop();
  }

  /** Types text into the focused Android field (split into messages the agent accepts). */
  type(text: string): boolean {
    return textMessages(text).every((m) => this.send(m));
  }

  /** Sends one raw input message; false when the input channel is not open or it is too large. */
  send(msg: InputMessage): boolean {
    return this.sendOn(this.conn?.input, msg);
  }

  private sendOn(dc: RTCDataChannel | undefined, msg: InputMessage): boolean {
    if (!dc || dc.readyState !== "open") return false;
    const text = JSON.stringify(msg);
    if (new TextEncoder().encode(text).length > MAX_INPUT_MESSAGE_BYTES) return false;
    try {
      dc.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Measures input-to-frame latency `n` times with the test game's probe square; returns the
   * samples in ms (the last also shows as `stats().lastInputToFrameMs`).
   */
  async probeLatency(n = 1, timeoutMs = 2000): Promise<number[]> {
    if (this._state !== "playing") throw new PlayrackError(SdkCode.INVALID_STATE, "probeLatency needs a playing stream");
    const clock = this.env.clock;
    const samples = await runProbes({
      count: n,
      send: (seq) => this.send({ t: "probe", seq }),
      nextFrame: () =>
        withTimeout(
          clock,
          new Promise<ProbeFrame>((resolve) => this.frameWaiters.push(resolve)),
          timeoutMs,
          SdkCode.PROBE_TIMEOUT,
          "next frame",
        ),
      now: () => clock.now(),
      timeoutMs,
      firstSeq: this.probeSeq + 1,
    });
    const first = this.probeSeq + 1;
    this.probeSeq += n;
    // Each result goes to the board too: its metrics and the operator's view of this play.
    samples.forEach((ms, i) => {
      this.send({ t: "latency", seq: first + i, ms: Math.min(MAX_LATENCY_MS, Math.round(ms * 10) / 10) });
    });
    const last = samples[samples.length - 1];
    if (last !== undefined) this.tracker.setLastProbe(last);
    return samples;
  }

  /** Leaves (if playing) and removes the video from the page. */
  destroy(): void {
    this.disableSensors();
    void this.leave();
    this.unbindInput();
    this.view.destroy();
  }

  // ---- the flow ----------------------------------------------------------------------------

  private async run(target: PlayTarget, options: PlayOptions, signal: AbortSignal): Promise<void> {
    const env = this.env;
    const req: AcquireRequest = {
      device: { user_agent: env.userAgent || null, os: env.platform ?? null },
    };
    if (options.archiveId) req.archive_id = options.archiveId;
    if (this.options.specId) req.spec_id = this.options.specId;
    if (this.options.region) req.region = this.options.region;
    if ("link" in target) {
      const card = await this.api.linkCard(target.link);
      this.check(signal);
      this.card = card;
      this.emitter.emit("link", card);
      req.link = target.link;
      req.device_id = this.deviceId;
      req.rtt_ms = await measureRooms(card.rooms, {
        fetch: env.fetch,
        now: () => env.clock.now(),
        resolve: (u) => this.api.url(u),
      });
    } else {
      req.game_id = target.game;
      req.player_token = target.playerToken;
      req.device_id = this.deviceId;
    }
    this.check(signal);
    const idempotencyKey = randomId(env.random, 32);
    const res = await this.api.acquire(req, idempotencyKey);
    this.check(signal);
    let sessionId: string;
    if (res.status === "QUEUED") {
      this.ticketId = res.ticket_id;
      this.setState("queued");
      this.emitQueued({
        id: res.ticket_id,
        state: "waiting",
        reason: res.reason,
        position: res.position,
        queue_length: res.queue_length,
        eta_secs: res.eta_secs,
        poll_after_ms: res.poll_after_ms,
      });
      this.follow = followTicket({
        ticketId: res.ticket_id,
        pollAfterMs: res.poll_after_ms,
        api: this.api,
        openEvents: env.openEvents,
        onUpdate: (t) => this.emitQueued(t),
        setTimeout: (f, ms) => env.clock.setTimeout(f, ms),
        clearTimeout: (h) => env.clock.clearTimeout(h),
      });
      sessionId = await this.follow.done;
      this.follow = undefined;
      this.ticketId = undefined;
    } else {
      sessionId = res.session_id;
    }
    this.check(signal);
    this.sessionId = sessionId;
    this.emitter.emit("assigned", { sessionId });
    this.setState("connecting");
    // A play placed below the game's first spec (no room for it, or capped by the platform)
    // is told once, when its session says so.
    let toldDowngraded = false;
    const onSession = (ps: PlaySession) => {
      if (ps.session.downgraded && !toldDowngraded) {
        toldDowngraded = true;
        this.notice("DOWNGRADED", `playing at ${ps.session.spec_id}`);
      }
    };
    const connect = await waitForConnect(this.api, sessionId, { clock: env.clock, signal, onSession });
    await this.establish(sessionId, signal, connect);
  }

  /**
   * Connects, retrying with fresh tokens (backoff) inside the grace window. `first` is the
   * connect info already in hand for the first attempt.
   */
  private async establish(sessionId: string, signal: AbortSignal, first?: ConnectInfo): Promise<void> {
    const clock = this.env.clock;
    const start = clock.now();
    let code: string | undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 || !first) {
        const d = decideReconnect(this.policy, Math.max(0, attempt - 1), clock.now() - start, code, this.env.random());
        if (d.kind === "give-up") {
          throw new PlayrackError(
            d.why === "GRACE_EXPIRED" ? SdkCode.CONNECTION_LOST : d.why,
            `could not connect to the game (${d.why})`,
          );
        }
        await sleep(clock, d.delayMs, signal);
      }
      try {
        const info =
          attempt === 0 && first
            ? first
            : await waitForConnect(this.api, sessionId, {
                clock,
                signal,
                timeoutMs: Math.max(1000, this.policy.graceMs - (clock.now() - start)),
              });
        await this.connect(sessionId, info, attempt, signal);
        return;
      } catch (e) {
        if (e instanceof SessionEnded || signal.aborted) throw e;
        code = e instanceof PlayrackError ? e.code : undefined;
      }
    }
  }

  /** Opens signaling and the peer with one token. Resolves once the answer is applied. */
  private async connect(sessionId: string, info: ConnectInfo, attempt: number, signal: AbortSignal): Promise<void> {
    this.check(signal);
    this.emitter.emit("connecting", { sessionId, attempt });
    const conn: Connection = {
      signaling: undefined as unknown as Signaling,
      candidates: [],
      established: false,
      closed: false,
    };
    conn.signaling = new Signaling(this.env.webSocket, {
      onSignal: (s) => this.onSignal(conn, s),
      onBadMessage: (e) => this.warn(e.code, e.message),
      onClose: (code, reason) => {
        const why = `signaling closed (${code}${reason ? `: ${reason}` : ""})`;
        if (conn.established) this.onDrop(conn, why);
        else conn.fail?.(new PlayrackError(SdkCode.NETWORK, why));
      },
    });
    this.conn = conn;
    const welcome = await withTimeout(
      this.env.clock,
      conn.signaling.open(info.signaling_url, info.token),
      10_000,
      SdkCode.NETWORK,
      "signaling welcome",
    ).catch((e: unknown) => {
      conn.closed = true;
      conn.signaling.close();
      throw e;
    });
    this.check(signal);
    const answer = new Promise<string>((resolve, reject) => {
      conn.answer = resolve;
      conn.fail = reject;
    });
    const { pc, input, sensors } = await negotiate(this.env.peer, conn.signaling, welcome.ice_servers, {
      clock: this.env.clock,
      answer,
      lowLatency: this.options.lowLatency !== false,
      onStream: (stream) => this.view.attach(stream),
    }).catch((e: unknown) => {
      conn.closed = true;
      conn.signaling.close();
      throw e;
    });
    if (conn.closed || signal.aborted || !conn.signaling.connected) {
      pc.close();
      conn.signaling.close();
      this.check(signal);
      throw new PlayrackError(SdkCode.NETWORK, "the connection closed while negotiating");
    }
    conn.pc = pc;
    conn.input = input;
    conn.sensors = sensors;
    conn.established = true;
    conn.fail = undefined;
    for (const c of conn.candidates.splice(0)) addRemoteCandidate(pc, c);
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" || pc.connectionState === "closed") this.onDrop(conn, `ICE ${pc.connectionState}`);
    });
    input.addEventListener("close", () => this.onDrop(conn, "input channel closed"));
    this.tracker.resetCounters();
    const video = pc.getReceivers?.().find((r) => r.track?.kind === "video");
    const captures = new CaptureTimes();
    conn.stopFrames = this.view.onFrame((time, meta) => {
      // each shown frame timed from the capture instant it carried (abs-capture-time)
      if (meta && video?.getSynchronizationSources) {
        captures.note(video.getSynchronizationSources() as SourceEntry[]);
        const t = captures.timing(meta, Date.now() - performance.now());
        if (t) this.tracker.frameTimed(t);
      }
      this.onFrame(conn, time);
    });
    this.startStats();
  }

  private onSignal(conn: Connection, s: AgentSignal): void {
    if (conn !== this.conn) return;
    switch (s.type) {
      case "answer":
        conn.answer?.(s.sdp);
        return;
      case "candidate":
        if (conn.pc) addRemoteCandidate(conn.pc, s.candidate);
        else conn.candidates.push(s.candidate);
        return;
      case "stats":
        this.tracker.addAgentStats(s.stats);
        return;
      case "clipboard":
        this.emitter.emit("clipboard", { text: s.text });
        return;
      case "custom":
        this.emitter.emit("custom", { data: s.data });
        return;
      case "notice":
        this.notice(s.code, s.message, s.at ?? undefined);
        // the player connected again elsewhere (another tab): do not take the stream back
        if (s.code === "REPLACED") this.finishEnded("REPLACED");
        return;
      case "ended":
        this.closeConnection();
        this.finishEnded(s.reason);
        return;
      case "error":
        // e.g. refused input: the play goes on
        this.warn(s.code, s.message);
        return;
      case "welcome":
        this.warn(SdkCode.BAD_SIGNAL, "a second welcome");
        return;
    }
  }

  private onFrame(conn: Connection, time: number): void {
    if (conn !== this.conn) return;
    this.tracker.frameShown(time);
    if (this.frameWaiters.length > 0) {
      const lit = this.view.readProbeLit() ?? false;
      for (const w of this.frameWaiters.splice(0)) w({ time, lit });
    }
    if (this.frozen) {
      this.frozen = false;
      this.notice("RECOVERED", "the picture is back");
    }
    if (this._state === "connecting" && this.sessionId) {
      const first = !this.everPlayed;
      this.everPlayed = true;
      if (this.reconnecting) {
        this.reconnecting = false;
        this.notice("RECOVERED", "reconnected");
      }
      this.setState("playing");
      this.emitter.emit("playing", { sessionId: this.sessionId });
      if (first) this.resolvePlaying?.();
    }
  }

  private startStats(): void {
    if (this.statsTimer !== undefined) return;
    const clock = this.env.clock;
    const every = this.options.statsIntervalMs ?? 1000;
    const tick = async () => {
      this.statsTimer = undefined;
      const conn = this.conn;
      if (!conn || conn.closed || this._state === "ended" || this._state === "error") return;
      if (conn.pc) {
        try {
          const report = await conn.pc.getStats();
          const entries: StatsEntry[] = [];
          report.forEach((e: StatsEntry) => entries.push(e));
          const s = this.tracker.addReport(entries, clock.now());
          // no frame callback (hidden tab, old browser): decoded frames still say "playing"
          if (s.framesDecoded > 0 && this._state === "connecting") this.onFrame(conn, clock.now());
        } catch {
          /* a closed peer: the drop handler decides */
        }
      }
      this.checkFreeze(conn);
      this.emitter.emit("stats", this.tracker.get());
      if (conn === this.conn && !conn.closed) this.statsTimer = clock.setTimeout(() => void tick(), every);
    };
    this.statsTimer = clock.setTimeout(() => void tick(), every);
  }

  private checkFreeze(conn: Connection): void {
    if (this._state !== "playing") return;
    const now = this.env.clock.now();
    const freezeMs = this.options.freezeMs ?? 2000;
    if (!this.frozen && this.tracker.frozen(now, freezeMs)) {
      // the browser asks for a key frame (PLI) on its own; the agent answers with one
      this.frozen = true;
      this.notice("RECOVERING", "the picture froze; asking for a fresh key frame");
    } else if (this.frozen && this.tracker.frozen(now, freezeMs * 4)) {
      this.onDrop(conn, "no picture");
    }
  }

  /** The connection dropped: reconnect with fresh tokens inside the grace window. */
  private onDrop(conn: Connection, why: string): void {
    if (conn !== this.conn || conn.closed) return;
    this.closeConnection();
    const sessionId = this.sessionId;
    const signal = this.playAbort?.signal;
    if (!sessionId || !signal || signal.aborted || this._state === "ended" || this._state === "error") return;
    this.reconnecting = true;
    this.frozen = false;
    this.touches.cancelAll(); // the new channel starts with no pointers down
    this.setState("connecting");
    this.notice("RECOVERING", `reconnecting: ${why}`);
    this.establish(sessionId, signal).catch((e: unknown) => this.onFlowError(e, signal));
  }

  private notice(code: string, message: string, at?: string): void {
    this.stopCountdown();
    const tell = () => {
      const text = noticeText(code, this.locale, at);
      this.emitter.emit("notice", at === undefined ? { code, message, text } : { code, message, text, at });
    };
    tell();
    const when = at === undefined ? Number.NaN : Date.parse(at);
    // The minutes left, told again as they go down, until the time comes or the play ends.
    const again = () => {
      this.countdown = undefined;
      if (Date.now() >= when || this._state !== "playing") return;
      tell();
      this.countdown = this.env.clock.setTimeout(again, COUNTDOWN_EVERY_MS);
    };
    if (Number.isFinite(when) && when > Date.now()) {
      this.countdown = this.env.clock.setTimeout(again, COUNTDOWN_EVERY_MS);
    }
  }

  private stopCountdown(): void {
    if (this.countdown !== undefined) this.env.clock.clearTimeout(this.countdown);
    this.countdown = undefined;
  }

  private warn(code: string, message: string): void {
    this.emitter.emit("warning", { code, message, text: noticeText(code, this.locale) });
  }

  private onFlowError(e: unknown, signal: AbortSignal): void {
    if (signal.aborted) return; // cancel/leave/ended already finished this play
    if (e instanceof SessionEnded) {
      this.closeConnection();
      this.finishEnded(e.reason);
      return;
    }
    const err = asPlayrackError(e);
    if (err.code === "ENDED") {
      this.closeConnection();
      this.finishEnded(err.message);
      return;
    }
    this.closeConnection();
    this.playAbort?.abort(err);
    this.setState("error");
    this.emitter.emit("error", { code: err.code, message: err.message, text: errorText(err.code, this.locale), fatal: true });
    this.rejectPlaying?.(err);
    this.clearPlayPromise();
  }

  private finishEnded(reason: string): void {
    if (this._state === "ended" || this._state === "error") return;
    this.playAbort?.abort(new PlayrackError("ENDED", reason));
    this.follow?.stop();
    this.closeConnection();
    this.setState("ended");
    const payload: PlayerEvents["ended"] = { reason, text: endedText(reason, this.locale) };
    if (this.card?.cta) payload.cta = this.card.cta;
    this.emitter.emit("ended", payload);
    this.rejectPlaying?.(new PlayrackError("ENDED", `the play ended (${reason})`));
    this.clearPlayPromise();
  }

  private closeConnection(): void {
    const conn = this.conn;
    if (!conn) return;
    conn.closed = true;
    conn.stopFrames?.();
    conn.signaling.close();
    try {
      conn.input?.close();
      conn.sensors?.close();
      conn.pc?.close();
    } catch {
      /* already closed */
    }
    this.view.detach();
    this.conn = undefined;
    if (this.statsTimer !== undefined) this.env.clock.clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
    this.stopCountdown();
    this.frameWaiters = [];
  }

  private emitQueued(t: Ticket): void {
    this.emitter.emit("queued", {
      ticketId: t.id,
      // a promoted ticket has no place in line any more: it is next
      position: t.position ?? 1,
      queueLength: t.queue_length,
      etaSecs: t.eta_secs,
      reason: t.reason,
      promoted: t.state === "promoted",
    });
  }

  private setState(s: PlayerState): void {
    if (this._state === s) return;
    this._state = s;
    if (s === "playing") this.pollGamepads();
    else if (this.gamepadTimer !== undefined) {
      this.env.clock.clearTimeout(this.gamepadTimer);
      this.gamepadTimer = undefined;
    }
    if (s === "ended" || s === "error" || s === "idle") this.disableSensors();
    this.emitter.emit("state", s);
  }

  /** Reads the gamepads once a frame while playing; what changed goes to the game. */
  private pollGamepads(): void {
    const read = this.env.gamepads;
    if (!read || this.options.gamepad === false || this.gamepadTimer !== undefined) return;
    const tick = () => {
      this.gamepadTimer = undefined;
      if (this._state !== "playing") return;
      let pads: readonly (GamepadLike | null)[] = [];
      try {
        pads = read();
      } catch {
        /* a browser that refuses (permissions policy): no gamepads */
      }
      this.gamepads.poll(pads, (m) => this.send(m));
      this.gamepadTimer = this.env.clock.setTimeout(tick, GAMEPAD_POLL_MS);
    };
    tick();
  }

  private check(signal: AbortSignal): void {
    if (signal.aborted) throw aborted(signal);
  }

  private clearPlayPromise(): void {
    this.resolvePlaying = undefined;
    this.rejectPlaying = undefined;
  }

  private resetPlay(): void {
    this.sessionId = undefined;
    this.ticketId = undefined;
    this.card = undefined;
    this.everPlayed = false;
    this.frozen = false;
    this.reconnecting = false;
    this.tracker.resetCounters();
  }
}

/** Creates a player inside `container` (the video fills it, letterboxed). */
export function createPlayer(container: HTMLElement, options: PlayerOptions = {}): Player {
  return new Player(container, options);
}
