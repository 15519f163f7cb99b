// The try-play page: loads the H5 SDK, wires the Play / Leave the line / Leave / Mute /
// Full screen buttons to the SDK player, and reflects its events in the page.
// Test hooks: document.body.dataset.playerState is always one of
// idle | queued | connecting | playing | ended | error; window.playrackPlayer is the player.

const STATES = ["idle", "queued", "connecting", "playing", "ended", "error"];
const body = document.body;
const $ = (id) => document.getElementById(id);

const END_REASONS = {
  TRIAL_OVER: "Your free trial is over.",
  USER_LEFT: "You left the game.",
  IDLE: "The game ended because there was no input for a while.",
  KICKED: "The game was ended by the publisher.",
  BOARD_LOST: "We lost the connection to the game server.",
  APP_CRASHED: "The game stopped unexpectedly.",
  APP_NOT_RESPONDING: "The game stopped responding.",
  MAINTENANCE: "The game server went into maintenance. Please come back later.",
  CLAIM_EXPIRED: "Your turn came, but the game was not started in time.",
  CONNECTION_LOST: "The connection was lost and could not be restored.",
  ERROR: "Something went wrong on our side.",
};
const QUEUE_REASONS = {
  TENANT_QUOTA_FULL: "All seats for this game are taken right now.",
  ROOM_FULL: "The game servers near you are full right now.",
};

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

function showError(code, message) {
  $("player-error").textContent = `${message || "The game could not start."} (${code || "ERROR"})`;
  setState("error");
}

function eta(secs) {
  if (secs == null) return "–";
  if (secs < 60) return "under a minute";
  const m = Math.round(secs / 60);
  return m === 1 ? "1 minute" : `${m} minutes`;
}

function on(player, event, fn) {
  if (typeof player.on === "function") player.on(event, fn);
  else if (typeof player.addEventListener === "function") player.addEventListener(event, (e) => fn(e.detail ?? e));
}

async function main() {
  if (!STATES.includes(body.dataset.playerState)) setState("idle");
  if (body.dataset.sdk === "missing") {
    showError("SDK_MISSING", "The player could not be loaded. Please try again later.");
    return;
  }
  let sdk;
  try {
    sdk = await import("/assets/sdk/playrack.js");
  } catch (e) {
    console.error("playrack: the SDK failed to load", e);
    showError("SDK_MISSING", "The player could not be loaded. Please try again later.");
    return;
  }
  let player;
  try {
    // `?low_latency=0` keeps the browser's own jitter buffering (a jittery network; and the
    // latency bench's comparison figure).
    const lowLatency = new URLSearchParams(location.search).get("low_latency") !== "0";
    player = sdk.createPlayer($("stream"), { apiBase: location.origin, lowLatency });
  } catch (e) {
    showError(e?.code || "SDK_ERROR", e?.message);
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
    $("queue-reason").textContent = QUEUE_REASONS[q?.reason] ?? "";
  });
  on(player, "assigned", () => { $("connecting-text").textContent = "Preparing your game…"; setState("connecting"); });
  on(player, "connecting", () => { $("connecting-text").textContent = "Connecting…"; setState("connecting"); });
  on(player, "playing", () => setState("playing"));
  on(player, "ended", (e) => {
    const reason = e?.reason ?? "ERROR";
    $("end-reason").textContent = END_REASONS[reason] ?? `The game ended (${reason}).`;
    $("end-reason").dataset.reason = reason;
    setState("ended");
  });
  on(player, "error", (e) => showError(e?.code, e?.message));
  on(player, "notice", (n) => {
    $("notice").textContent = n?.code === "RECOVERED" ? "" : (n?.message ?? "");
    // About to be kicked for idling: one tap keeps the play.
    $("still-here").hidden = n?.code !== "IDLE_WARNING";
  });
  $("still-here").addEventListener("click", () => {
    player.stillHere();
    $("still-here").hidden = true;
    $("notice").textContent = "";
  });

  const start = async () => {
    $("player-error").textContent = "";
    $("connecting-text").textContent = "Starting your game…";
    setState("connecting");
    try {
      await player.play({ link });
    } catch (e) {
      if (e?.code === "CANCELLED") { setState("idle"); return; }
      if (body.dataset.playerState !== "ended") showError(e?.code, e?.message);
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
    btn.textContent = muted ? "Unmute" : "Mute";
  });
  $("fullscreen").addEventListener("click", () => {
    const stage = $("stage");
    if (document.fullscreenElement) document.exitFullscreen?.();
    else stage.requestFullscreen?.().catch(() => {});
  });
  window.addEventListener("pagehide", () => {
    if (["queued", "connecting", "playing"].includes(body.dataset.playerState)) {
      try { player.leave(); } catch { /* the page is going away */ }
    }
  });
}

main().catch((e) => showError("ERROR", e?.message));
