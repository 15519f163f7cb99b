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

import { api, ApiError } from "../app.js";

/** A WebSocket URL for a signaling URL (`http(s)://` becomes `ws(s)://`), as the SDK does. */
export function webSocketUrl(url) {
  return url.replace(/^http(s?):/i, (_, s) => (s ? "wss:" : "ws:"));
}

/** Resolves when ICE gathering completes, or after `ms`. */
function gathered(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(h);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const h = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/**
 * Watches a play: connects with `connect` (a ConnectInfo) and shows the stream in `video`.
 * `onState(state, text)` reports progress. Answers { stop() }.
 */
export function spectate(connect, video, onState) {
  let pc;
  let ws;
  let stopped = false;
  const finish = (state, text) => {
    if (stopped) return;
    stopped = true;
    try { if (ws?.readyState === 1) ws.send(JSON.stringify({ type: "bye" })); } catch { /* closed */ }
    try { ws?.close(1000, "bye"); } catch { /* closed */ }
    try { pc?.close(); } catch { /* closed */ }
    video.srcObject = null;
    onState(state, text);
  };
  const send = (msg) => { if (ws?.readyState === 1) ws.send(JSON.stringify(msg)); };

  onState("connecting", "Connecting to the board…");
  try {
    ws = new WebSocket(webSocketUrl(connect.signaling_url));
  } catch (e) {
    finish("error", `Cannot open the board's signaling: ${e}`);
    return { stop() {} };
  }
  const answerTimer = setTimeout(() => finish("error", "The board did not answer in time."), 15000);
  ws.onopen = () => send({ type: "hello", token: connect.token, role: "spectator" });
  ws.onerror = () => { /* onclose follows */ };
  ws.onclose = (ev) => {
    clearTimeout(answerTimer);
    finish("ended", `The board closed the connection (${ev.code}).`);
  };
  ws.onmessage = async (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (!msg || typeof msg.type !== "string") return;
    switch (msg.type) {
      case "welcome": {
        const iceServers = (msg.ice_servers || []).map((s) => {
          const o = { urls: s.urls };
          if (s.username) o.username = s.username;
          if (s.credential) o.credential = s.credential;
          return o;
        });
        try {
          pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
          pc.addTransceiver("video", { direction: "recvonly" });
          pc.addTransceiver("audio", { direction: "recvonly" });
          // One stream for every track, as the SDK does: the board announces its video and
          // its audio in streams of their own, and the second must not replace the first.
          const stream = new MediaStream();
          pc.ontrack = (t) => {
            if (!stream.getTracks().includes(t.track)) stream.addTrack(t.track);
            if (video.srcObject !== stream) video.srcObject = stream;
            video.play?.().catch(() => undefined);
          };
          pc.onconnectionstatechange = () => {
            if (pc.connectionState === "connected") onState("watching", "Watching live.");
            else if (pc.connectionState === "failed") finish("error", "The media connection failed.");
          };
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          await gathered(pc, 1000);
          send({ type: "offer", sdp: pc.localDescription?.sdp ?? offer.sdp });
        } catch (e) {
          finish("error", `WebRTC failed: ${e?.message || e}`);
        }
        break;
      }
      case "answer":
        clearTimeout(answerTimer);
        try {
          await pc?.setRemoteDescription({ type: "answer", sdp: msg.sdp });
          onState("connecting", "Negotiated; waiting for the picture…");
        } catch (e) {
          finish("error", `The board's answer was refused: ${e?.message || e}`);
        }
        break;
      case "candidate":
        pc?.addIceCandidate({ candidate: msg.candidate, sdpMLineIndex: 0 }).catch(() => undefined);
        break;
      case "notice":
        onState("watching", `Notice from the board: ${msg.message} (${msg.code})`);
        break;
      case "ended":
        finish("ended", `The play ended (${msg.reason}).`);
        break;
      case "error":
        finish("error", `The board refused: ${msg.message} (${msg.code})`);
        break;
      default:
        break; // stats and anything newer
    }
  };
  return { stop: () => finish("idle", "Stopped watching.") };
}

/** Draws the frame `video` shows into a PNG and offers it (see the header). */
function screenshot(section, video) {
  const status = section.querySelector("[data-spectate-status]");
  if (!video.videoWidth || !video.videoHeight) {
    if (status) status.textContent = "No picture yet: wait for the first frame.";
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
  const onState = (state, text) => {
    section.dataset.spectateState = state;
    if (status) status.textContent = text;
    const busy = state === "connecting" || state === "watching";
    startBtn.hidden = busy;
    stopBtn.hidden = !busy;
    if (shotBtn) shotBtn.disabled = state !== "watching";
    if (!busy) current = undefined;
  };
  shotBtn?.addEventListener("click", () => screenshot(section, video));
  startBtn.addEventListener("click", async () => {
    if (current) return;
    startBtn.disabled = true;
    onState("connecting", "Asking the controller for a spectator pass…");
    try {
      const connect = await api("POST", section.dataset.spectate);
      current = spectate(connect, video, onState);
      stopBtn.focus();
    } catch (e) {
      const text = e instanceof ApiError && e.code === "NOT_STREAMING"
        ? "The play is not streaming (yet, or any more)."
        : `Cannot watch: ${e instanceof ApiError ? `${e.message} (${e.code})` : e}`;
      onState("error", text);
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
