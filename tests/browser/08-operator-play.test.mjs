// (j) An operator looks after a live play from the console: the session page's live view
// (a spectator stream) shows the game's frames; a screenshot of it is a PNG of the video's
// size with the game in it; the logcat panel follows the instance's log — the game's start is
// in its history, and a line written while it follows (`log` in the instance's shell) shows
// up before the follow ends. A recording of the play, started and stopped from the page,
// downloads as an MP4 that ffprobe decodes whole with the frames the page says. The board's
// page shows the board agent's own log (JSON lines). The player's latency probes show on the
// session page (the SDK reports each result; the board passes them on).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { env, portal, launch, context, shot, signIn, logConsole, play, waitState, until, controller, framesDecoded, operatorToken } from "./lib/harness.mjs";

let browser;
let player;
let op;
before(async () => {
  browser = await launch();
  player = await (await context(browser)).newPage();
  op = await (await context(browser)).newPage();
  logConsole(player, "op-play player");
  logConsole(op, "op-play operator");
});
after(async () => {
  await browser?.close();
});

test("the operator watches a play, takes a screenshot and follows its log", async () => {
  await play(player, env("PLAYRACK_LINK_URL"));
  const session = await player.evaluate(() => window.playrackPlayer.session);
  const token = await operatorToken();
  const entry = await until("the play's instance to be known", async () => {
    const online = await controller("GET", "/v1/online?limit=200", token);
    return online.items.find((e) => e.session_id === session && e.instance_id);
  }, 30_000, 250);
  const version = await controller("GET", `/v1/versions/${entry.version_id}`, token);

  await signIn(op, env("PLAYRACK_OPERATOR_EMAIL"), env("PLAYRACK_OPERATOR_PASSWORD"));
  await op.goto(`${portal()}/operator/sessions/${encodeURIComponent(session)}`);
  assert.equal(await op.getByTestId("session-instance").textContent(), entry.instance_id);
  assert.match(await op.getByTestId("session-latency").textContent(), /not measured/);

  // The player measures its touch-to-screen; the operator sees the same figures.
  const probes = await player.evaluate(() => window.playrackPlayer.probeLatency(3));
  const shown = await until("the play's latency on the session page", async () => {
    await op.reload();
    const text = await op.getByTestId("session-latency").textContent();
    return /\(3 probes\)/.test(text) && text;
  }, 20_000, 500);
  const max = Number(/max (\d+) ms/.exec(shown)?.[1]);
  assert.ok(Math.abs(max - Math.max(...probes)) <= 1, `${shown} vs ${JSON.stringify(probes)}`);

  // The live view: frames of the video's size keep coming.
  const [w, h] = [Number(env("PLAYRACK_VIDEO_WIDTH")), Number(env("PLAYRACK_VIDEO_HEIGHT"))];
  await op.getByTestId("spectate-start").click();
  await op.waitForFunction(() => document.querySelector("[data-spectate]")?.dataset.spectateState === "watching", null, { timeout: 30_000 });
  const frames = () => op.evaluate(() => document.querySelector("[data-spectate-video]").getVideoPlaybackQuality().totalVideoFrames);
  await until("the live view to decode frames", async () => (await frames()) >= 10, 30_000);
  const before = await frames();
  await until("more frames to come", async () => (await frames()) > before + 5, 15_000);
  assert.deepEqual(
    await op.evaluate(() => { const v = document.querySelector("[data-spectate-video]"); return [v.videoWidth, v.videoHeight]; }),
    [w, h],
  );

  // A screenshot: a PNG of the frame, at the video's size, with the game's pixels in it.
  await op.getByTestId("screenshot-take").click();
  await op.waitForFunction(() => { const i = document.querySelector("[data-testid=screenshot]"); return i && !i.hidden && i.complete && i.naturalWidth > 0; }, null, { timeout: 10_000 });
  const picture = await op.evaluate(() => {
    const img = document.querySelector("[data-testid=screenshot]");
    const c = document.createElement("canvas");
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext("2d");
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    const colors = new Set();
    for (let i = 0; i < px.length; i += 4 * 97) colors.add((px[i] >> 4) << 8 | (px[i + 1] >> 4) << 4 | (px[i + 2] >> 4));
    const link = document.querySelector("[data-testid=screenshot-link]");
    return { width: img.naturalWidth, height: img.naturalHeight, colors: colors.size, download: link.download, href: link.href };
  });
  assert.equal(picture.width, w);
  assert.equal(picture.height, h);
  assert.ok(picture.colors >= 3, `the screenshot shows the game, not a blank: ${picture.colors} colours`);
  assert.match(picture.download, /^play-.+\.png$/);
  assert.match(picture.href, /^blob:/);
  await shot(op, "operator-play-01-live-view-and-screenshot");

  // A recording: started, about two seconds of play, stopped, downloaded, read by ffprobe.
  {
    await Promise.all([op.waitForEvent("load"), op.getByTestId("record-start").click()]);
    assert.equal(await op.getByTestId("recording-state").first().textContent(), "recording");
    const from = await framesDecoded(player);
    await until("two seconds of play", async () => (await framesDecoded(player)) >= from + 60, 20_000);
    await Promise.all([op.waitForEvent("load"), op.getByTestId("recording-stop").click()]);
    await until("the recording to be ready", async () => {
      await op.reload();
      return (await op.getByTestId("recording-state").first().textContent()) === "ready";
    }, 30_000, 500);
    const download = await op.evaluate(async () => {
      const a = document.querySelector("[data-testid=recording-download]");
      const resp = await fetch(a.href);
      const bytes = new Uint8Array(await resp.arrayBuffer());
      let bin = "";
      for (const b of bytes) bin += String.fromCharCode(b);
      const frames = Number(a.closest("tr").children[3].textContent);
      return { status: resp.status, type: resp.headers.get("content-type"), b64: btoa(bin), frames, name: a.getAttribute("download") };
    });
    assert.equal(download.status, 200);
    assert.equal(download.type, "video/mp4");
    assert.match(download.name, /^rec_.+\.mp4$/);
    assert.ok(download.frames >= 30, `${download.frames} frames`);
    const file = join(mkdtempSync(join(tmpdir(), "playrack-rec-")), "play.mp4");
    writeFileSync(file, Buffer.from(download.b64, "base64"));
    const probe = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-of", "json", "-count_frames", "-select_streams", "v:0",
      "-show_entries", "stream=codec_name,width,height,nb_read_frames", file]).toString());
    const st = probe.streams[0];
    assert.equal(st.codec_name, "h264");
    assert.deepEqual([st.width, st.height], [w, h]);
    assert.equal(Number(st.nb_read_frames), download.frames, JSON.stringify(probe));
    await shot(op, "operator-play-02-recording");
  }

  // The log, followed: the game's start is in its history; a line written now arrives.
  await op.getByTestId("logcat-timeout").fill("20");
  await op.getByTestId("logcat-run").click();
  const output = () => op.getByTestId("logcat-output").textContent();
  await until("the log's history", async () => (await output()).includes(`Start proc `) && (await output()).includes(version.apk.package), 20_000, 250);
  const marker = `followed-${Date.now()}`;
  const run = await controller("POST", `/v1/boards/${entry.board_id}/shell`, token, {
    instance_id: entry.instance_id,
    command: `log -p w -t Probe ${marker}`,
  });
  assert.ok(run.id, JSON.stringify(run));
  await until("the new line in the followed log", async () => / W Probe {3}: followed-\d+/.test(await output()) && (await output()).includes(marker), 15_000, 250);
  await shot(op, "operator-play-03-logcat");
  await until("the follow to end at its time limit", async () => (await op.getByTestId("logcat-status").textContent()) === "Followed the log for 20 s.", 40_000, 500);

  // The board agent's own log, from the board's page.
  await op.goto(`${portal()}/operator/boards/${encodeURIComponent(entry.board_id)}`);
  await op.getByTestId("agent-log-lines").fill("50");
  await op.getByTestId("agent-log-run").click();
  await until("the agent's log", async () => /finished with exit code 0/.test(await op.getByTestId("agent-log-status").textContent()), 20_000, 250);
  const agentLines = (await op.getByTestId("agent-log-output").textContent()).trim().split("\n");
  assert.ok(agentLines.length >= 1 && agentLines.length <= 50, `${agentLines.length} lines`);
  for (const l of agentLines) assert.ok(["INFO", "WARN", "ERROR", "DEBUG", "TRACE"].includes(JSON.parse(l).level), l);
  await shot(op, "operator-play-04-agent-log");

  await player.getByTestId("leave").click();
  await waitState(player, "ended", 30_000);
});
