// (t) Over UDP, then TCP to the TURN server: a player whose browser can use nothing but TURN (its RTCPeerConnection allows relay
// candidates only, as on a network where UDP to the boards is blocked) still plays: the stream
// flows through Debian's coturn, with credentials the board made for this one play.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, framesDecoded, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

for (const transport of ["udp", "tcp"]) test(`with relay candidates only, the play streams through TURN over ${transport}`, async () => {
  const ctx = await context(browser);
  await ctx.addInitScript((transport) => {
    const Native = window.RTCPeerConnection;
    function RelayOnly(config, ...rest) {
      window.__iceServers = config?.iceServers ?? [];
      // Over TCP: only the TURN URLs that say so (the board offers both).
      const iceServers = window.__iceServers.map((s) => ({
        ...s,
        urls: s.urls.filter((u) => (transport === "tcp") === u.includes("transport=tcp")),
      })).filter((s) => s.urls.length > 0);
      window.__pc = new Native({ ...config, iceServers, iceTransportPolicy: "relay" }, ...rest);
      return window.__pc;
    }
    RelayOnly.prototype = Native.prototype;
    window.RTCPeerConnection = RelayOnly;
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
    return { local: local?.candidateType, protocol: local?.relayProtocol, received: selected?.bytesReceived };
  });
  console.log(`selected pair: ${JSON.stringify(pair)}`);
  assert.equal(pair.local, "relay", "the media comes through the TURN relay");
  assert.equal(pair.protocol, transport, "to the TURN server over the transport asked for");
  assert.ok(pair.received > 10_000, `media arrived through it (${pair.received} bytes)`);
  await shot(page, `turn-${transport}-playing`);
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  await ctx.close();
});
