// The try-play page: loads the H5 SDK, wires the Play / Leave the line / Leave / Mute /
// Keyboard / Full screen buttons to the SDK player, and reflects its events in the page, in
// the page's language (the SDK says errors, notices and endings in it: its `locale`). On phones it fits the stage to the stream's orientation: full screen
// (or a full-viewport mode where the Fullscreen API is missing, as on iPhone Safari) locks the
// screen to the game's orientation where allowed, else a hint asks to turn the phone.
// Test hooks: document.body.dataset.playerState is always one of
// idle | queued | connecting | playing | ended | error; window.playrackPlayer is the player.

const STATES = ["idle", "queued", "connecting", "playing", "ended", "error"];
const body = document.body;
const $ = (id) => document.getElementById(id);

// The page's words in its language (the server's catalogues): `data-messages` on <body>.
let MESSAGES = {};
try {
  MESSAGES = JSON.parse(body.dataset.messages || "{}");
} catch {
  MESSAGES = {};
}
const M = (key) => (typeof MESSAGES[key] === "string" ? MESSAGES[key] : undefined);

function setState(s) {
  const state = STATES.includes(s) ? s : "connecting";
  body.dataset.playerState = state;
  const focus = { queued: "cancel", ended: "again", error: "play" }[state];
  if (focus) $(focus)?.focus();
}

/** Maps the SDK's own state names onto the page's six. */
function pageState(sdkState) {
  switch (sdkState) {
    case "idle": return "idle";
    case "queued": case "waiting": return "queued";
    case "playing": return "playing";
    case "ended": return "ended";
    case "error": case "failed": return "error";
    default: return "connecting"; // acquiring, assigned, preparing, connecting, reconnecting…
  }
}

/** Shows an error: `text` (the SDK's words for the code, in the page's language) and the code. */
function showError(code, text) {
  $("player-error").textContent = `${text || M("error-generic")} (${code || "ERROR"})`;
  setState("error");
}

function eta(secs) {
  if (secs == null) return "–";
  if (secs < 60) return M("eta-under-minute");
  const minutes = MESSAGES["eta-minutes"] || [];
  const m = Math.min(Math.round(secs / 60), minutes.length - 1);
  return minutes[m] ?? `${m}`;
}

// ---- phone fit ------------------------------------------------------------------------------

const stage = () => $("stage");
const phone = () => matchMedia("(pointer: coarse)").matches;
let orientationLocked = false;

/** The stage follows the stream: its aspect and orientation, from the video's size. */
function followStream() {
  const video = $("stream").querySelector("video");
  if (!video || video.dataset.followed) return;
  video.dataset.followed = "1";
  const fit = () => {
    const { videoWidth: w, videoHeight: h } = video;
    if (!w || !h) return;
    stage().style.setProperty("--aspect", `${w} / ${h}`);
    stage().dataset.orientation = w > h ? "landscape" : "portrait";
    updateRotateHint();
  };
  video.addEventListener("resize", fit);
  video.addEventListener("loadedmetadata", fit);
  fit();
}

/** "Turn your phone": a landscape game on a phone held upright whose screen is not locked. */
function updateRotateHint() {
  const upright = innerHeight > innerWidth;
  const show = body.dataset.playerState === "playing" && phone() && !orientationLocked
    && stage().dataset.orientation === "landscape" && upright;
  $("rotate-hint").hidden = !show;
}

function fullViewport(on) {
  body.classList.toggle("pseudo-fullscreen", on);
}

function fullscreenLabel() {
  const on = !!document.fullscreenElement || body.classList.contains("pseudo-fullscreen");
  $("fullscreen").textContent = on ? M("exit-fullscreen") : M("fullscreen");
  $("fullscreen").setAttribute("aria-pressed", String(on));
}

async function enterFullscreen() {
  const el = stage();
  let real = false;
  if (typeof el.requestFullscreen === "function" && document.fullscreenEnabled !== false) {
    try {
      await el.requestFullscreen({ navigationUI: "hide" });
      real = true;
    } catch { /* refused: the full-viewport mode below */ }
  }
  if (!real) fullViewport(true);
  // The game's orientation, where the browser lets a page lock it (full screen on Android).
  try {
    await screen.orientation?.lock?.(el.dataset.orientation === "landscape" ? "landscape" : "portrait");
    orientationLocked = true;
  } catch {
    orientationLocked = false;
  }
  fullscreenLabel();
  updateRotateHint();
}

async function exitFullscreen() {
  if (document.fullscreenElement) await document.exitFullscreen?.().catch(() => {});
  fullViewport(false);
  try { screen.orientation?.unlock?.(); } catch { /* not locked */ }
  orientationLocked = false;
  fullscreenLabel();
  updateRotateHint();
}

function on(player, event, fn) {
  if (typeof player.on === "function") player.on(event, fn);
  else if (typeof player.addEventListener === "function") player.addEventListener(event, (e) => fn(e.detail ?? e));
}

async function main() {
  if (!STATES.includes(body.dataset.playerState)) setState("idle");
  if (body.dataset.sdk === "missing") {
    showError("SDK_MISSING", M("sdk-missing"));
    return;
  }
  let sdk;
  try {
    sdk = await import("/assets/sdk/playrack.js");
  } catch (e) {
    console.error("playrack: the SDK failed to load", e);
    showError("SDK_MISSING", M("sdk-missing"));
    return;
  }
  let player;
  try {
    // `?low_latency=0` keeps the browser's own jitter buffering (a jittery network; and the
    // latency bench's comparison figure).
    const lowLatency = new URLSearchParams(location.search).get("low_latency") !== "0";
    player = sdk.createPlayer($("stream"), { apiBase: location.origin, lowLatency, locale: document.documentElement.lang });
  } catch (e) {
    showError(e?.code || "SDK_ERROR", sdk.errorText(e?.code, sdk.pickLocale(document.documentElement.lang)));
    return;
  }
  window.playrackPlayer = player;
  const link = body.dataset.link;

  on(player, "state", (s) => setState(pageState(typeof s === "string" ? s : s?.state)));
  on(player, "queued", (q) => {
    setState("queued");
    $("queue-position").textContent = q?.position ?? "–";
    $("queue-length").textContent = q?.queueLength ?? "–";
    $("queue-eta").textContent = eta(q?.etaSecs);
    $("queue-reason").textContent = M(`queue-reason-${q?.reason}`) ?? "";
  });
  on(player, "assigned", () => { $("connecting-text").textContent = M("preparing"); setState("connecting"); });
  on(player, "connecting", () => { $("connecting-text").textContent = M("connecting"); setState("connecting"); });
  on(player, "playing", () => {
    setState("playing");
    followStream();
    updateRotateHint();
  });
  on(player, "ended", (e) => {
    const reason = e?.reason ?? "ERROR";
    $("end-reason").textContent = e?.text ?? reason;
    exitFullscreen();
    $("end-reason").dataset.reason = reason;
    setState("ended");
    // The play just saved: the next one may continue from it, or from an older save.
    listSaves();
  });
  on(player, "error", (e) => showError(e?.code, e?.text));
  on(player, "notice", (n) => {
    $("notice").textContent = n?.code === "RECOVERED" ? "" : (n?.text ?? "");
    // About to be kicked for idling: one tap keeps the play.
    $("still-here").hidden = n?.code !== "IDLE_WARNING";
  });
  // The call to action opens in a new tab; the link's publisher counts the click.
  document.querySelector("[data-testid=cta]")?.addEventListener("click", () => player.ctaClicked());
  $("still-here").addEventListener("click", () => {
    player.stillHere();
    $("still-here").hidden = true;
    $("notice").textContent = "";
  });

  // A player with several saves picks the one to continue from (the newest by default).
  const listSaves = async () => {
    let saves = [];
    try {
      saves = await player.listSaves({ link });
    } catch (e) {
      console.warn("playrack: saves", e);
    }
    const select = $("save-choice");
    select.replaceChildren();
    const when = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium", timeStyle: "medium" });
    saves.forEach((s, i) => {
      const o = document.createElement("option");
      o.value = s.id;
      const notes = [i === 0 ? M("save-newest") : null, s.pinned ? M("save-pinned") : null, s.tag].filter(Boolean);
      o.textContent = when.format(new Date(s.created_at)) + (notes.length ? ` · ${notes.join(" · ")}` : "");
      select.append(o);
    });
    $("saves").hidden = saves.length < 2;
  };
  listSaves();

  const start = async () => {
    $("player-error").textContent = "";
    $("connecting-text").textContent = M("starting");
    setState("connecting");
    const chosen = $("saves").hidden ? undefined : $("save-choice").value || undefined;
    try {
      await player.play({ link }, { archiveId: chosen });
    } catch (e) {
      if (e?.code === "CANCELLED") { setState("idle"); return; }
      if (body.dataset.playerState !== "ended") showError(e?.code, sdk.errorText(e?.code ?? "", player.locale));
    }
  };
  $("play").addEventListener("click", start);
  $("again").addEventListener("click", start);
  $("cancel").addEventListener("click", async () => {
    try { await player.cancel(); } catch (e) { console.warn("playrack: cancel", e); }
    setState("idle");
  });
  $("leave").addEventListener("click", async () => {
    try { await player.leave(); } catch (e) { console.warn("playrack: leave", e); }
  });
  $("mute").addEventListener("click", () => {
    const btn = $("mute");
    const muted = btn.getAttribute("aria-pressed") !== "true";
    try { player.mute(muted); } catch (e) { console.warn("playrack: mute", e); }
    btn.setAttribute("aria-pressed", String(muted));
    btn.textContent = muted ? M("unmute") : M("mute");
  });
  $("keyboard").addEventListener("click", () => player.showKeyboard());
  $("fullscreen").addEventListener("click", () => {
    const on = !!document.fullscreenElement || body.classList.contains("pseudo-fullscreen");
    (on ? exitFullscreen : enterFullscreen)();
  });
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement) orientationLocked = false;
    fullscreenLabel();
    updateRotateHint();
  });
  addEventListener("resize", updateRotateHint);
  window.addEventListener("pagehide", () => {
    if (["queued", "connecting", "playing"].includes(body.dataset.playerState)) {
      try { player.leave(); } catch { /* the page is going away */ }
    }
  });
}

main().catch((e) => {
  console.error("playrack:", e);
  showError("ERROR");
});
