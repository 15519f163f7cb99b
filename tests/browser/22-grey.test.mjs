// (v) A grey release from the tenant console: the demo game gets a newer version (uploaded on
// its page and deployed to the room), the grey form sends 100 % of one new link's players to
// it; a player through that link plays the candidate on a board, the side-by-side figures
// list both versions, and Roll back (confirmed) ends the release — the next play through the
// link is the published version again. The history of the game shows the start and the
// rollback. Other links never see the candidate, so the scenarios before are untouched.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole, controller, play, playInstance, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const tenant = () => env("PLAYRACK_TENANT_TOKEN");

test("a tenant greys a new version to one link's players, watches it play, and rolls it back", async () => {
  const game = env("PLAYRACK_GAME_ID");
  const published = (await controller("GET", `/v1/games/${game}/grey`, tenant())).versions[0].version_id;
  const link = await controller("POST", "/v1/links", tenant(), { game_id: game, trial_seconds: 120 });
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "grey");
  page.on("dialog", (d) => d.accept());
  await signIn(page, env("PLAYRACK_TENANT_EMAIL"), env("PLAYRACK_TENANT_PASSWORD"));

  // The newer version: uploaded on the game's page, deployed to the room.
  await page.goto(`${portal()}/console/games/${game}`);
  assert.equal(await page.getByTestId("grey-form").count(), 0, "no candidate before the upload");
  await page.getByTestId("upload-file").setInputFiles(env("PLAYRACK_APK"));
  await page.getByTestId("upload-submit").click();
  const candidate = await until("the new version READY", async () => {
    const versions = await controller("GET", `/v1/games/${game}/versions?limit=200`, tenant());
    return versions.items.find((v) => v.id !== published && v.state === "READY" && !v.published_at);
  }, 60_000, 250);
  await page.goto(`${portal()}/console/versions/${candidate.id}/deploy`);
  await page.getByTestId(`room-${env("PLAYRACK_ROOM_ID")}`).check();
  await Promise.all([page.waitForEvent("load"), page.getByTestId("set-deployment-submit").click()]);
  await page.waitForFunction(() => /^([1-9]\d*)\/\1 ready$/.test(document.querySelector("[data-testid=room-boards]")?.textContent ?? ""), null, { timeout: 60_000 });

  // The grey form: every player of the new link gets the candidate.
  await page.goto(`${portal()}/console/games/${game}`);
  await page.getByTestId("grey-version").selectOption(candidate.id);
  await page.getByTestId("grey-percent").fill("100");
  await page.getByTestId("grey-link").selectOption(link.id);
  await Promise.all([page.waitForEvent("load"), page.getByTestId("grey-submit").click()]);
  const status = await page.getByTestId("grey-status").textContent();
  assert.match(status, new RegExp(`${candidate.id}.*100`), status);
  assert.match(status, new RegExp(`link ${link.code}`), status);
  const release = (await controller("GET", `/v1/games/${game}/grey`, tenant())).release;
  assert.equal(release.version_id, candidate.id);
  assert.equal(release.link_id, link.id);
  await shot(page, "grey-01-under-way");

  // A player through the link plays the candidate on a board.
  const player = await ctx.newPage();
  logConsole(player, "grey-player");
  await play(player, `${portal()}/play/${link.code}`);
  const where = await playInstance(player);
  assert.equal(where.entry.version_id, candidate.id, "the link's player plays the candidate");
  await player.getByTestId("leave").click();
  await player.getByTestId("end-screen").waitFor();
  await player.close();

  // Both versions side by side; roll back.
  await page.reload();
  const versions = await page.getByTestId("grey-figures").locator("tbody tr code").allTextContents();
  assert.deepEqual(versions, [published, candidate.id]);
  await Promise.all([page.waitForEvent("load"), page.getByTestId("grey-rollback").click()]);
  assert.equal(await page.getByTestId("grey-status").count(), 0, "no release after the rollback");
  assert.equal((await controller("GET", `/v1/games/${game}/grey`, tenant())).release, undefined);
  await shot(page, "grey-02-rolled-back");

  // The next play through the link is the published version.
  const again = await ctx.newPage();
  await play(again, `${portal()}/play/${link.code}`);
  assert.equal((await playInstance(again)).entry.version_id, published, "back on the published version");
  await again.getByTestId("leave").click();
  await again.getByTestId("end-screen").waitFor();

  await page.goto(`${portal()}/console/history/${game}`);
  const actions = await page.getByTestId("history").locator("tbody tr").getByTestId("history-action").allTextContents();
  assert.deepEqual(actions.slice(0, 2), ["grey.rollback", "grey.start"]);
  await ctx.close();
});
