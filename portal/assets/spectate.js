// Operator console: a live spectator view of a play. The H5 SDK's player always says
// `role: "player"` and runs the whole acquire flow, so this is a small receive-only peer of its
// own, speaking the same signaling (crates/wire/src/signaling.rs):
//   POST /api/sessions/{id}/spectate → ConnectInfo {signaling_url, token, expires_at} (audited)
//   ws: hello {token, role: "spectator"} → welcome {ice_servers} → offer {sdp} (recvonly video +
//   audio, no DataChannel) → answer {sdp} (the agent is ICE-lite: its candidate is in the
//   answer) → candidate / stats / notice / ended / error.
// Markup: <section data-spectate="/api/sessions/{id}/spectate"> with <video data-spectate-video>,
// [data-spectate-start], [data-spectate-stop] and [data-spectate-status].
// [data-spectate-shot] takes a screenshot of the live view: the decoded frame on screen, drawn
// at the video's own size into a PNG, shown in [data-spectate-shot-image] and offered for
// download by [data-spectate-shot-link].
// Test hook: section.dataset.spectateState is idle | connecting | watching | ended | error.

import { api, ApiError, describe, msg } from "../app.js";
import { spectate } from "../watch-stream.js";

export { spectate, webSocketUrl } from "../watch-stream.js";

/** Draws the frame `video` shows into a PNG and offers it (see the header). */
function screenshot(section, video) {
  const status = section.querySelector("[data-spectate-status]");
  if (!video.videoWidth || !video.videoHeight) {
    if (status) status.textContent = msg("js-spectate-no-picture");
    return;
  }
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const img = section.querySelector("[data-spectate-shot-image]");
    const link = section.querySelector("[data-spectate-shot-link]");
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    if (img) {
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      img.src = url;
      img.hidden = false;
    }
    if (link) {
      link.href = url;
      link.download = `play-${section.dataset.spectate.split("/")[3] || "session"}-${stamp}.png`;
      link.hidden = false;
    }
  }, "image/png");
}

for (const section of document.querySelectorAll("[data-spectate]")) {
  const video = section.querySelector("[data-spectate-video]");
  const startBtn = section.querySelector("[data-spectate-start]");
  const stopBtn = section.querySelector("[data-spectate-stop]");
  const status = section.querySelector("[data-spectate-status]");
  const shotBtn = section.querySelector("[data-spectate-shot]");
  let current;
  section.dataset.spectateState = "idle";
  // `text`: in the page's language; `detail`: the peer's own (English) account, as a tooltip.
  const show = (state, text, detail = "") => {
    section.dataset.spectateState = state;
    if (status) {
      status.textContent = text;
      status.title = detail;
    }
    const busy = state === "connecting" || state === "watching";
    startBtn.hidden = busy;
    stopBtn.hidden = !busy;
    if (shotBtn) shotBtn.disabled = state !== "watching";
    if (!busy) current = undefined;
  };
  const onState = (state, detail) => show(
    state,
    state === "error" ? msg("js-spectate-cannot", { error: detail }) : msg(`js-spectate-${state}`),
    detail,
  );
  shotBtn?.addEventListener("click", () => screenshot(section, video));
  startBtn.addEventListener("click", async () => {
    if (current) return;
    startBtn.disabled = true;
    show("connecting", msg("js-spectate-asking"));
    try {
      const connect = await api("POST", section.dataset.spectate);
      current = spectate(connect, video, onState);
      stopBtn.focus();
    } catch (e) {
      const text = e instanceof ApiError && e.code === "NOT_STREAMING"
        ? msg("js-spectate-not-streaming")
        : msg("js-spectate-cannot", { error: describe(e) });
      show("error", text);
    } finally {
      startBtn.disabled = false;
    }
  });
  stopBtn.addEventListener("click", () => {
    current?.stop();
    startBtn.focus();
  });
  addEventListener("pagehide", () => current?.stop());
}
