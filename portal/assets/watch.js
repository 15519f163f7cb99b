// The public watch page, /watch/<code>: asks the controller what the watch link shows now
// (POST /v1/play/watch/<code>: a spectator pass per play — the one play, or a wall's newest)
// and tiles the plays, receive-only (watch-stream.js). A wall looks again every few seconds, so
// tiles fill as plays start and free up as they end; a session link waits for its play to
// stream. Words come from the page's catalogue (`data-messages` on #watch, beside the code).
// Test hooks: body.dataset.watchState is loading | waiting | watching | error; every tile is
// [data-testid=watch-tile] with data-state (connecting | watching | ended | error) and a <video>.

import { spectate } from "./watch-stream.js";

const body = document.body;
const $ = (id) => document.getElementById(id);
const root = $("watch");
let MESSAGES = {};
try {
  MESSAGES = JSON.parse(root.dataset.messages || "{}");
} catch {
  MESSAGES = {};
}
const M = (key) => MESSAGES[key] ?? key;
const code = root.dataset.watchCode;
const grid = $("watch-grid");
/** Live tiles by the session their pass is for (read from the pass, never trusted for more). */
const tiles = new Map();
const LOOK_AGAIN_MS = 5000;

function setState(state, text) {
  body.dataset.watchState = state;
  $("watch-status").textContent = text ?? "";
}

/** The session a spectator pass names (its payload is base64url JSON). */
function sessionOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).session;
  } catch {
    return token;
  }
}

function addTile(tile) {
  const el = document.createElement("figure");
  el.className = "watch-tile";
  el.dataset.testid = "watch-tile";
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute("playsinline", "");
  const caption = document.createElement("figcaption");
  el.append(video, caption);
  grid.append(el);
  const session = sessionOf(tile.connect.token);
  const entry = { el, peer: undefined };
  tiles.set(session, entry);
  entry.peer = spectate(tile.connect, video, (state, _text, refusal) => {
    el.dataset.state = state;
    caption.textContent = refusal ? M(`watch-${refusal}`) : M(`watch-tile-${state}`);
    if (state === "ended" || state === "error" || state === "idle") {
      // Gone: the tile frees up for the next play (a wall), or the page says why.
      setTimeout(() => {
        if (tiles.get(session) === entry) tiles.delete(session);
        if (body.dataset.kind === "wall") el.remove();
      }, 1500);
    }
  });
}

async function look() {
  let res;
  try {
    res = await fetch(`/v1/play/watch/${encodeURIComponent(code)}`, { method: "POST" });
  } catch {
    setState("error", M("watch-NETWORK"));
    return true;
  }
  let view;
  try {
    view = await res.json();
  } catch {
    view = {};
  }
  if (!res.ok) {
    // Revoked, expired, over, unknown: nothing more to watch here.
    for (const t of tiles.values()) t.peer?.stop();
    setState("error", M(`watch-${view.code}`) ?? view.detail);
    $("watch-status").dataset.code = view.code ?? "ERROR";
    return false;
  }
  body.dataset.kind = view.kind;
  $("watch-game").textContent = view.game_name;
  for (const tile of view.tiles) {
    if (!tiles.has(sessionOf(tile.connect.token))) addTile(tile);
  }
  if (tiles.size === 0) setState("waiting", M("watch-waiting"));
  else setState("watching", "");
  return true;
}

async function loop() {
  setState("loading", M("watch-loading"));
  for (;;) {
    if (!(await look())) return;
    // A session link has its one play once it streams; a wall keeps looking for new plays.
    if (body.dataset.kind === "session" && tiles.size > 0) return;
    await new Promise((r) => setTimeout(r, LOOK_AGAIN_MS));
  }
}

addEventListener("pagehide", () => {
  for (const t of tiles.values()) t.peer?.stop();
});
loop();
