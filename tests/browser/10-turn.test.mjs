// (t) Over UDP, then TCP to the TURN server: a player on a network that cannot reach the boards' UDP
// ports still plays. Its Chromium runs in a network namespace of its own (PLAYRACK_NETNS_CHROMIUM,
// set up by tests/tests/browser.rs): the board's host candidate, 127.0.0.1:<port>, is that
// namespace's own loopback, where no board listens; only coturn, on this machine's end of the
// namespace's veth pair, and the forwarded HTTP ports are in reach. The stream flows through
// coturn with credentials the board made for this one play. Nothing restricts the browser's
// ICE (no relay-only policy): the network alone leaves TURN as the only path.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, framesDecoded, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch(env("PLAYRACK_NETNS_CHROMIUM"));
});
after(async () => {
  await browser?.close();
});

for (const transport of ["udp", "tcp"]) test(`from a network without a path to the board, the play streams through TURN over ${transport}`, async () => {
  const ctx = await context(browser);
  await ctx.addInitScript((transport) => {
    const Native = window.RTCPeerConnection;
    // Keeps the connection for its stats and, over TCP, only the TURN URLs that say so (the
    // board offers both); the ICE policy stays the page's own.
    function Recorded(config, ...rest) {
      window.__iceServers = config?.iceServers ?? [];
      const iceServers = window.__iceServers.map((s) => ({
        ...s,
        urls: s.urls.filter((u) => (transport === "tcp") === u.includes("transport=tcp")),
      })).filter((s) => s.urls.length > 0);
      window.__pc = new Native({ ...config, iceServers }, ...rest);
      return window.__pc;
    }
    Recorded.prototype = Native.prototype;
    window.RTCPeerConnection = Recorded;
  }, transport);
  const page = await ctx.newPage();
  logConsole(page, "turn");
  await play(page, env("PLAYRACK_LINK_URL"));
  const session = await page.evaluate(() => window.playrackPlayer.session);
  const first = await framesDecoded(page);
  await until("frames to advance", async () => (await framesDecoded(page)) >= first + 30, 20_000);

  const servers = await page.evaluate(() => window.__iceServers);
  const turn = servers.find((s) => s.urls.some((u) => u.startsWith("turn:")));
  assert.ok(turn, `a TURN server in the welcome: ${JSON.stringify(servers)}`);
  const [expiry, named] = turn.username.split(":");
  assert.equal(named, session, "the credentials are this play's");
  assert.ok(Number(expiry) > Date.now() / 1000, `not expired: ${turn.username}`);

  const pair = await page.evaluate(async () => {
    const stats = await window.__pc.getStats();
    let selected;
    stats.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) selected = stats.get(r.selectedCandidatePairId);
    });
    const local = selected && stats.get(selected.localCandidateId);
    // Every pair from one of the browser's own addresses straight to the board.
    const direct = [];
    stats.forEach((r) => {
      if (r.type !== "candidate-pair") return;
      const l = stats.get(r.localCandidateId);
      if (l && l.candidateType !== "relay") direct.push(r.state);
    });
    return { local: local?.candidateType, protocol: local?.relayProtocol, received: selected?.bytesReceived, direct };
  });
  console.log(`selected pair: ${JSON.stringify(pair)}`);
  assert.equal(pair.local, "relay", "the media comes through the TURN relay");
  assert.ok(!pair.direct.includes("succeeded"), `no direct path to the board worked: ${pair.direct}`);
  assert.equal(pair.protocol, transport, "to the TURN server over the transport asked for");
  assert.ok(pair.received > 10_000, `media arrived through it (${pair.received} bytes)`);
  await shot(page, `turn-${transport}-playing`);
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  await ctx.close();
});
