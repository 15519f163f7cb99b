// (a) A tenant signs in to the console, creates a game, uploads a fixture APK through the
// console's upload form (the progress bar reaches 100%), publishes it, deploys it to the room
// (the room's state reaches "ready") and creates a try-play link, whose player page then
// shows the game. Screenshots of every tenant console page. The APK is tapper-v2: bytes no
// board holds yet (see DemoStack::tenant_with_capacity for why that matters).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole, waitState } from "./lib/harness.mjs";

let browser;
let page;
before(async () => {
  browser = await launch();
  const ctx = await context(browser);
  page = await ctx.newPage();
  logConsole(page, "tenant");
  // the console's Revoke/Drain buttons confirm with a dialog
  page.on("dialog", (d) => d.accept());
});
after(async () => {
  await browser?.close();
});

const slug = `tap-ui-${Date.now().toString(36)}`;
let gameUrl;
let linkUrl;

test("the tenant signs in and creates a game", async () => {
  await signIn(page, env("PLAYRACK_TENANT_EMAIL"), env("PLAYRACK_TENANT_PASSWORD"));
  await page.goto(`${portal()}/console/games`);
  assert.equal(await page.getByTestId("account-email").textContent(), env("PLAYRACK_TENANT_EMAIL"));
  await shot(page, "tenant-01-games");
  await page.getByTestId("game-name-input").fill("Tap Tap UI");
  await page.getByTestId("game-slug-input").fill(slug);
  // only the spec the demo boards offer
  for (const box of await page.locator("input[name=spec_ids]").all()) await box.uncheck();
  await page.getByTestId(`spec-${env("PLAYRACK_SPEC_ID")}`).check();
  await Promise.all([
    page.waitForURL(/\/console\/games\/gam_/),
    page.getByTestId("create-game-submit").click(),
  ]);
  assert.equal(await page.getByTestId("game-title").textContent(), "Tap Tap UI");
  gameUrl = page.url();
});

test("the APK uploads with visible progress up to 100% and becomes READY", async () => {
  // Record every value the progress bar shows (the <progress> value attribute).
  await page.evaluate(() => {
    window.__progress = [];
    const bar = document.querySelector("[data-testid=upload-progress]");
    new MutationObserver(() => window.__progress.push(Number(bar.value))).observe(bar, { attributes: true, attributeFilter: ["value"] });
  });
  await page.getByTestId("upload-file").setInputFiles(env("PLAYRACK_APK"));
  await page.getByTestId("upload-submit").click();
  const bar = page.getByTestId("upload-progress");
  await bar.waitFor({ state: "visible" });
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=upload-progress]").value) === 100, null, { timeout: 30_000 });
  await page.waitForFunction(() => /Ready:/.test(document.querySelector("[data-testid=upload-status]").textContent), null, { timeout: 30_000 });
  const seen = await page.evaluate(() => window.__progress);
  assert.ok(seen.includes(100), `the bar reached 100%: ${seen}`);
  assert.match(await page.getByTestId("upload-status").textContent(), /com\.playrack\.demo\.tapper 1\.1 \(2\)/);
  await shot(page, "tenant-02-upload-done");
  // the page reloads itself and lists the version as READY
  await page.waitForFunction(() => document.querySelector("[data-testid=version-state]")?.textContent === "READY", null, { timeout: 15_000 });
  assert.equal(await page.getByTestId("upload-error").textContent(), "");
});

test("the version is published and deployed to the room", async () => {
  await Promise.all([page.waitForEvent("load"), page.getByTestId("publish-version").click()]);
  await page.getByTestId("default-version").waitFor();
  await shot(page, "tenant-03-game-published");
  await Promise.all([page.waitForURL(/\/deploy$/), page.getByTestId("deploy-version").click()]);
  await page.getByTestId(`room-${env("PLAYRACK_ROOM_ID")}`).check();
  await Promise.all([page.waitForEvent("load"), page.getByTestId("set-deployment-submit").click()]);
  // the page polls the deployment; the boards already hold this package (same SHA-256)
  await page.waitForFunction(() => document.querySelector("[data-testid=room-state]")?.textContent === "ready", null, { timeout: 60_000 });
  assert.equal(await page.locator(`[data-room-percent]`).first().textContent(), "100%");
  // the package is on the room's shared volume, and every board of the room holds it
  await page.waitForFunction(() => document.querySelector("[data-testid=room-volume]")?.textContent === "placed", null, { timeout: 30_000 });
  await page.waitForFunction(() => /^([1-9]\d*)\/\1 ready$/.test(document.querySelector("[data-testid=room-boards]")?.textContent ?? ""), null, { timeout: 30_000 });
  await shot(page, "tenant-04-deployed");
});

test("a try-play link is created and its page shows the game", async () => {
  await page.goto(gameUrl);
  await page.getByTestId("new-link").click();
  await page.getByTestId("link-trial-input").fill("120");
  await page.getByTestId("link-campaign-input").fill("browser-test");
  await Promise.all([page.waitForEvent("load"), page.getByTestId("create-link-submit").click()]);
  const link = page.getByTestId("link-url").first();
  linkUrl = await link.getAttribute("href");
  assert.match(linkUrl, /\/play\/[A-Za-z0-9_-]+$/);
  await shot(page, "tenant-05-link");
  const player = await page.context().newPage();
  logConsole(player, "player");
  await player.goto(linkUrl);
  assert.equal(await player.getByTestId("game-name").textContent(), "Tap Tap UI");
  await waitState(player, "idle");
  await shot(player, "player-01-idle");
  await player.close();
});

test("every tenant console page renders", async () => {
  for (const p of ["games", "links", "sessions", "usage", "orders", "archives", "keys", "webhooks"]) {
    const resp = await page.goto(`${portal()}/console/${p}`);
    assert.equal(resp.status(), 200, p);
    assert.equal(await page.locator("[data-testid=error]").count(), 0, `${p} shows an error`);
    await shot(page, `tenant-console-${p}`);
  }
  // the orders page shows the demo tenant's quota
  await page.goto(`${portal()}/console/orders`);
  assert.ok((await page.getByTestId("quota-in-use").count()) >= 1);
});
