// (p) Watching: a tenant's watch link to a live play plays it read-only (the watcher's taps
// reach nothing), admits only its viewer limit, and is refused once revoked; a wall link tiles
// the game's live plays — four players, four tiles — for a screen at an event.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, framePoint, until, controller, playInstance, gameFile, signIn } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const tenant = () => env("PLAYRACK_TENANT_TOKEN");

/** Opens a watch page; answers the page once it settled on `state`. */
async function watchPage(path, state) {
  const page = await (await context(browser)).newPage();
  logConsole(page, "watch");
  await page.goto(`${env("PLAYRACK_PORTAL_URL")}${path}`);
  await page.waitForFunction((s) => document.body.dataset.watchState === s, state, { timeout: 30_000 });
  return page;
}

/** How many of the page's tiles show a decoded, moving picture. */
const liveTiles = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("[data-testid=watch-tile]")].filter((t) => {
      const v = t.querySelector("video");
      return t.dataset.state === "watching" && v.videoWidth > 0 && v.currentTime > 0;
    }).length,
  );

test("a watch link plays read-only up to its viewer limit, and is refused once revoked", async () => {
  const ctx = await context(browser);
  const player = await ctx.newPage();
  logConsole(player, "player");
  await play(player, env("PLAYRACK_LINK_URL"));
  const session = await player.evaluate(() => window.playrackPlayer.session);
  const link = await controller("POST", `/v1/sessions/${session}/watch-links`, tenant(), { max_viewers: 1, ttl_seconds: 600 });
  assert.match(link.path, /^\/watch\/[A-Za-z0-9_-]+$/);
  assert.equal(link.max_viewers, 1);
  const listed = await controller("GET", "/v1/watch-links", tenant());
  const row = listed.items.find((l) => l.id === link.id);
  assert.equal(row.code, undefined, "the code is shown once, then kept hashed");

  const watcher = await watchPage(link.path, "watching");
  await until("the watcher's picture", async () => ((await liveTiles(watcher)) === 1 ? true : null), 30_000, 250);
  assert.equal(await watcher.getByTestId("watch-game").textContent(), await player.getByTestId("game-name").textContent());

  // Read-only: the watcher's taps reach nothing.
  const where = await playInstance(player);
  const before = (await gameFile(where, "taps").catch(() => "")).trim();
  const tile = await watcher.getByTestId("watch-tile").boundingBox();
  for (let i = 0; i < 3; i++) await watcher.mouse.click(tile.x + tile.width / 2, tile.y + tile.height / 2);
  const p = await framePoint(player, 0.5, 0.5);
  await player.mouse.click(p.x, p.y);
  const after = await until("the player's own tap counted", async () => {
    const t = (await gameFile(where, "taps").catch(() => "")).trim();
    return t !== before ? t : null;
  }, 20_000, 250);
  assert.equal(Number(after), (Number(before) || 0) + 1, "one tap, the player's");

  // The limit: one viewer at a time.
  const second = await watchPage(link.path, "watching");
  const refused = await until("the second viewer refused", () =>
    second.evaluate(() => document.querySelector("[data-testid=watch-tile]")?.dataset.state === "error" || null), 30_000, 250);
  assert.equal(refused, true);
  assert.match(await second.getByTestId("watch-tile").textContent(), /Too many people/);
  await second.context().close();
  await shot(watcher, "watch-01-live");

  // Revoked: nobody new gets in.
  await controller("POST", `/v1/watch-links/${link.id}/revoke`, tenant());
  const late = await watchPage(link.path, "error");
  assert.equal(await late.getByTestId("watch-status").getAttribute("data-code"), "WATCH_REVOKED");
  await late.context().close();
  await watcher.context().close();

  // The tenant's console makes one too: the Watch link button shows its address once.
  const consolePage = await (await context(browser)).newPage();
  await signIn(consolePage, env("PLAYRACK_TENANT_EMAIL"), env("PLAYRACK_TENANT_PASSWORD"));
  await consolePage.goto(`${env("PLAYRACK_PORTAL_URL")}/console/sessions`);
  await consolePage.locator("tr", { hasText: session }).getByTestId("watch-session").click();
  await consolePage.getByTestId("secret-box").waitFor();
  const address = await consolePage.getByTestId("secret-value").textContent();
  assert.match(address, /\/watch\/[A-Za-z0-9_-]+$/);
  const fromConsole = await watchPage(new URL(address).pathname, "watching");
  await until("the console link's picture", async () => ((await liveTiles(fromConsole)) === 1 ? true : null), 30_000, 250);
  await fromConsole.context().close();
  await consolePage.reload();
  assert.ok((await consolePage.getByTestId("revoke-watch-link").count()) >= 1, "listed, revocable");
  await consolePage.context().close();
  await player.getByTestId("leave").click();
  await waitState(player, "ended", 30_000);
  await ctx.close();
});

test("a wall tiles four live plays of the game", async () => {
  const players = [];
  for (let i = 0; i < 4; i++) {
    const page = await (await context(browser)).newPage();
    logConsole(page, `wall-player-${i}`);
    await play(page, env("PLAYRACK_LINK_URL"));
    players.push(page);
  }
  const wall = await controller("POST", `/v1/games/${env("PLAYRACK_GAME_ID")}/wall-links`, tenant(), { tiles: 4 });
  assert.equal(wall.kind, "wall");
  const screen = await watchPage(wall.path, "watching");
  await until("four live tiles", async () => ((await liveTiles(screen)) === 4 ? true : null), 60_000, 500);
  await shot(screen, "watch-02-wall");
  // A play ends: its tile goes.
  await players[0].getByTestId("leave").click();
  await waitState(players[0], "ended", 30_000);
  await until("three tiles", () => screen.evaluate(() => document.querySelectorAll("[data-testid=watch-tile]").length === 3 || null), 30_000, 500);
  await screen.context().close();
  for (const p of players) await p.context().close();
});
