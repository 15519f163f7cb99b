// A receive-only spectator peer: connects to a board's signaling with a ConnectInfo
// {signaling_url, token} and shows the play in a <video>. The H5 SDK's player always says
// `role: "player"` and runs the whole acquire flow, so spectators use this small peer, speaking
// the same signaling (crates/wire/src/signaling.rs):
//   ws: hello {token, role: "spectator"} → welcome {ice_servers} → offer {sdp} (recvonly video +
//   audio, no DataChannel) → answer {sdp} (the agent is ICE-lite: its candidate is in the
//   answer) → candidate / stats / notice / ended / error.
// Used by the operator console's live view (operator/spectate.js) and the public watch page
// (watch.js). `onState(state, text, code)`: state is connecting | watching | ended | error |
// idle; `code` is the board's refusal code, when it refused.

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
  const finish = (state, text, code) => {
    if (stopped) return;
    stopped = true;
    try { if (ws?.readyState === 1) ws.send(JSON.stringify({ type: "bye" })); } catch { /* closed */ }
    try { ws?.close(1000, "bye"); } catch { /* closed */ }
    try { pc?.close(); } catch { /* closed */ }
    video.srcObject = null;
    onState(state, text, code);
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
        finish("error", `The board refused: ${msg.message} (${msg.code})`, msg.code);
        break;
      default:
        break; // stats and anything newer
    }
  };
  return { stop: () => finish("idle", "Stopped watching.") };
}

