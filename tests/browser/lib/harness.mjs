// Shared helpers of the browser suite: the stack's URLs and credentials (from the environment
// `tests/tests/browser.rs` sets), Debian's Chromium through playwright-core, screenshots, signing
// in, and reading the streamed test game's pixels (touch marks, the 7-segment tap counter).

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";

/** A required environment variable. */
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through tests/tests/browser.rs (see tests/browser/README.md)`);
  return v;
}

export const portal = () => env("PLAYRACK_PORTAL_URL");
export const artifacts = () => {
  const dir = process.env.PLAYRACK_ARTIFACTS || path.resolve("artifacts");
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** Chromium flags: headless on loopback, no network of its own, WebRTC to 127.0.0.1 allowed. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // ICE to the boards' 127.0.0.1 candidates (Chromium skips loopback interfaces otherwise).
  "--allow-loopback-in-peer-connection",
  "--autoplay-policy=no-user-gesture-required",
];

/**
 * Launches Debian's Chromium (playwright-core downloads no browser). Playwright gives every
 * launch a fresh, empty --user-data-dir of its own, and every context its own storage.
 * `executablePath` runs another program instead (e.g. a wrapper that starts Chromium in a
 * network namespace).
 */
export async function launch(executablePath) {
  return chromium.launch({
    executablePath: executablePath || process.env.PLAYRACK_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/**
 * A fresh context (its own cookies and localStorage: a new device id for the SDK); `options`
 * are Playwright's (permissions, a geolocation, …).
 */
export async function context(browser, options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 }, ...options });
  ctx.setDefaultTimeout(30_000);
  return ctx;
}

/** Saves a full-page screenshot as `<artifacts>/<name>.png`; answers the path. */
export async function shot(page, name) {
  const file = path.join(artifacts(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Pipes the page's console errors and failures to the test log (they explain failures). */
export function logConsole(page, label) {
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") {
      const where = m.location()?.url ? ` (${m.location().url})` : "";
      console.log(`[${label} console.${m.type()}] ${m.text()}${where}`);
    }
  });
  page.on("pageerror", (e) => console.log(`[${label} pageerror] ${e.message}`));
}

/** Signs in through the portal's form; lands on the console the role belongs to. */
export async function signIn(page, email, password) {
  await page.goto(`${portal()}/signin`);
  await page.getByTestId("signin-email").fill(email);
  await page.getByTestId("signin-password").fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/signin")), page.getByTestId("signin-submit").click()]);
}

// ---- the player page ---------------------------------------------------------------------

export const playerState = (page) => page.evaluate(() => document.body.dataset.playerState);

/** Waits until `document.body.dataset.playerState` is `state` (failing early on `error`). */
export async function waitState(page, state, timeout = 60_000) {
  await page.waitForFunction(
    (want) => {
      const s = document.body.dataset.playerState;
      if (s === "error" && want !== "error") {
        throw new Error(`player error: ${document.querySelector("[data-testid=player-error]")?.textContent}`);
      }
      return s === want;
    },
    state,
    { timeout, polling: 100 },
  );
}

/** Opens a try-play page and presses Play; answers when the player is `until`. */
export async function play(page, url, until = "playing") {
  await page.goto(url);
  await waitState(page, "idle", 15_000);
  await page.getByTestId("play-button").click();
  if (until) await waitState(page, until, 90_000);
}

/** `playrackPlayer.stats().framesDecoded`. */
export const framesDecoded = (page) => page.evaluate(() => window.playrackPlayer.stats().framesDecoded);

/** The client coordinates of the point (fx, fy) of the video frame (object-fit: contain). */
export async function framePoint(page, fx, fy) {
  return page.evaluate(
    ([fx, fy]) => {
      const v = document.querySelector("[data-testid=stream] video");
      const r = v.getBoundingClientRect();
      const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
      const w = v.videoWidth * scale;
      const h = v.videoHeight * scale;
      return { x: r.left + (r.width - w) / 2 + fx * w, y: r.top + (r.height - h) / 2 + fy * h };
    },
    [fx, fy],
  );
}

/**
 * Installs `window.__pr` in the page: `frame()` draws the current video frame into a canvas
 * and answers its luma plane; `lumaAt(fx, fy, r)` the mean luma of a (2r)² square there;
 * `taps()` the tap counter read like `android_injector::game::read_tap_counter`; and
 * `watchTouch(fx, fy, threshold)` a promise of the time from the next pointerdown on the video
 * to the first presented frame whose luma at (fx, fy) reaches `threshold`.
 */
export async function installPixelReader(page) {
  await page.evaluate(() => {
    if (window.__pr) return;
    const video = () => document.querySelector("[data-testid=stream] video");
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    /** The current frame's BT.601 luma, full range, as { width, height, data }. */
    function frame() {
      const v = video();
      const width = v.videoWidth;
      const height = v.videoHeight;
      if (!width || !height) return null;
      if (canvas.width !== width) canvas.width = width;
      if (canvas.height !== height) canvas.height = height;
      ctx.drawImage(v, 0, 0, width, height);
      const rgba = ctx.getImageData(0, 0, width, height).data;
      const data = new Uint8Array(width * height);
      for (let i = 0; i < data.length; i++) {
        data[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
      }
      return { width, height, data };
    }
    /** Mean over [x0, x1) × [y0, y1), like LumaRef::mean. */
    function mean(f, x0, y0, x1, y1) {
      x1 = Math.min(x1, f.width);
      y1 = Math.min(y1, f.height);
      if (x0 >= x1 || y0 >= y1) return f.data[y0 * f.width + x0];
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += f.data[y * f.width + x];
      return sum / ((x1 - x0) * (y1 - y0));
    }
    function lumaAt(fx, fy, r = 4, f = frame()) {
      const x = Math.floor(fx * f.width);
      const y = Math.floor(fy * f.height);
      return mean(f, x - r, y - r, x + r, y + r);
    }
    /** game::Layout's counter position: (x, y, digit height). */
    function counterLayout(width, height) {
      const block = Math.max(Math.floor(width / 16), 16);
      const perRow = Math.max(Math.floor(width / block), 1);
      const stripeH = Math.ceil(32 / perRow) * block;
      const margin = Math.floor(block / 2);
      return [margin, stripeH + margin, Math.min(Math.floor(width / 10), Math.floor(height / 10))];
    }
    /** A port of game::read_tap_counter: six 7-segment digits; null when one is unreadable. */
    function taps(f = frame()) {
      if (!f) return null;
      const SEGMENTS = [0b0111111, 0b0000110, 0b1011011, 0b1001111, 0b1100110, 0b1101101, 0b1111101, 0b0000111, 0b1111111, 0b1101111];
      const [x0, y, h] = counterLayout(f.width, f.height);
      const w = Math.floor(h / 2);
      const gap = Math.max(Math.floor(h / 6), 2);
      const t = Math.max(Math.floor(h / 8), 2);
      const half = Math.floor(h / 2);
      const lit = (a, b, c, d) => mean(f, a, b, c, d) >= 128;
      let value = 0;
      for (let i = 0; i < 6; i++) {
        const x = x0 + i * (w + gap);
        const mid = y + half - Math.floor(t / 2);
        const samples = [
          [x + t, y, x + w - t, y + t],
          [x + w - t, y + t, x + w, y + half - t],
          [x + w - t, y + half + t, x + w, y + h - t],
          [x + t, y + h - t, x + w - t, y + h],
          [x, y + half + t, x + t, y + h - t],
          [x, y + t, x + t, y + half - t],
          [x + t, mid, x + w - t, mid + t],
        ];
        let bits = 0;
        samples.forEach((s, b) => { if (lit(...s)) bits |= 1 << b; });
        const digit = SEGMENTS.indexOf(bits);
        if (digit < 0) return null;
        value = value * 10 + digit;
      }
      return value;
    }
    function watchTouch(fx, fy, threshold, timeoutMs = 5000) {
      const v = video();
      return new Promise((resolve) => {
        let down = null;
        const samples = [];
        const onDown = () => { if (down === null) down = performance.now(); };
        v.addEventListener("pointerdown", onDown, { capture: true });
        const deadline = performance.now() + timeoutMs + 10_000;
        const finish = (result) => {
          v.removeEventListener("pointerdown", onDown, { capture: true });
          resolve({ ...result, samples: samples.slice(-20) });
        };
        const onFrame = () => {
          const now = performance.now();
          if (down !== null) {
            const l = lumaAt(fx, fy);
            samples.push([Math.round(now - down), Math.round(l)]);
            if (l >= threshold) return finish({ ms: now - down, luma: l });
            if (now - down > timeoutMs) return finish({ ms: null, luma: l });
          } else if (now > deadline) {
            return finish({ ms: null, luma: null, noPointerDown: true });
          }
          v.requestVideoFrameCallback(onFrame);
        };
        v.requestVideoFrameCallback(onFrame);
      });
    }
    window.__pr = { frame, lumaAt, taps, watchTouch };
  });
}

/** Polls `fn` (async, answers truthy when done) every `every` ms until `timeout`. */
export async function until(what, fn, timeout = 30_000, every = 200) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A controller API call (bearer token), for the few facts a browser cannot see. */
export async function controller(method, p, token, body) {
  const resp = await fetch(`${env("PLAYRACK_CONTROLLER_URL")}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${p}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The demo operator's controller token (signs in through the API). */
export async function operatorToken() {
  const resp = await fetch(`${env("PLAYRACK_CONTROLLER_URL")}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: env("PLAYRACK_OPERATOR_EMAIL"), password: env("PLAYRACK_OPERATOR_PASSWORD") }),
  });
  if (resp.status !== 200) throw new Error(`operator sign-in: ${resp.status} ${await resp.text()}`);
  return (await resp.json()).token;
}

/**
 * Where the page's play runs, as the operator sees it: `{op, entry, pkg}` (the operator's
 * token, the play's /v1/online entry with its board and instance, the game's package).
 */
export async function playInstance(page) {
  const session = await page.evaluate(() => window.playrackPlayer.session);
  const op = await operatorToken();
  const entry = await until("the play's instance", async () => {
    const online = await controller("GET", "/v1/online?limit=200", op);
    return online.items.find((e) => e.session_id === session && e.instance_id);
  }, 30_000, 250);
  const version = await controller("GET", `/v1/versions/${entry.version_id}`, op);
  return { op, entry, pkg: version.apk.package };
}

/** A file of the play's game (`/data/data/<pkg>/files/<name>`), read with the operator's shell. */
export async function gameFile(where, name) {
  return instanceShell(where, `cat /data/data/${where.pkg}/files/${name}`);
}

/** Runs `command` on the play's instance with the operator's shell; answers its output. */
export async function instanceShell({ op, entry }, command) {
  const run = await controller("POST", `/v1/boards/${entry.board_id}/shell`, op, {
    instance_id: entry.instance_id,
    command,
  });
  const done = await until("the shell run to finish", async () => {
    const r = await controller("GET", `/v1/shell-runs/${run.id}`, op);
    return r.status === "done" ? r : null;
  }, 20_000, 200);
  return done.output;
}
