// (q) The consoles in Chinese: a browser that prefers zh-CN signs in (the sign-in page speaks
// Chinese), and every page of the tenant console and of the operator console comes in Chinese —
// headings, tables, forms, buttons, hints — with no catalogue key missing; times are shown in
// the reader's zone and language, money with the currency as Chinese writes it. The header's
// switcher turns the console English, and the choice sticks for the next page. The campaigns
// page shows what the demo link (the demo campaign) led to in the earlier scenarios.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/**
 * The page's own words that still have Latin words in them: headings, table heads, captions,
 * legends, labels, buttons, summaries, term names, navigation and empty-table lines — where
 * the page speaks, not its data. Technical tokens kept in every language are allowed.
 */
const english = (page, { h1 = true } = {}) =>
  page.evaluate((h1) => {
    const TOKENS = /\b(APK|QR|JWT|HS256|URL|ID|IDs|SDK|API|Webhook|Webhooks|MP4|HTTPS?|JSON|CPU|GPU|RAM|adb|logcat|shell|fps|UTC|MiB|GiB|KiB|Playrack|iss|sub|exp|IP|PEM|HMAC|SHA-256|CSV|H\.264|WebRTC|TURN|Android|px|kbit|MB|KB|ms|kB|Shell)\b/g;
    const chrome = ["h2", "h3", "th", "caption", "legend", "button", "summary", "dt", "label:not(.check)", "header.top nav:not(.lang) a", ".empty"];
    if (h1) chrome.push("h1");
    const found = [];
    for (const el of document.querySelectorAll(chrome.join(","))) {
      if (el.closest("code, nav.lang, [data-secret-box]")) continue;
      // an element's own text, not its children's data (a code, a link to a named thing)
      const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ");
      const words = own.replace(TOKENS, "").replace(/\([A-Z_]+\)/g, "");
      if (/[A-Za-z]{2,}/.test(words)) found.push(`${el.tagName.toLowerCase()}: ${own.trim()}`);
    }
    return found;
  }, h1);

async function visit(page, path, options) {
  const resp = await page.goto(`${portal()}${path}`);
  assert.equal(resp.status(), 200, path);
  assert.equal(await page.evaluate(() => document.documentElement.lang), "zh-CN", path);
  const text = await page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, /Unknown localization key/, path);
  assert.deepEqual(await english(page, options), [], path);
}

test("the tenant console in Chinese, page by page; the switcher turns it English", async () => {
  const ctx = await context(browser, { locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  const page = await ctx.newPage();
  logConsole(page, "tenant-zh");
  await page.goto(`${portal()}/signin`);
  assert.equal(await page.locator("h1").textContent(), "登录");
  assert.deepEqual(await english(page), []);
  await signIn(page, env("PLAYRACK_TENANT_EMAIL"), env("PLAYRACK_TENANT_PASSWORD"));

  for (const path of ["/console/games", "/console/links", "/console/campaigns", "/console/sessions", "/console/usage", "/console/orders", "/console/bills", "/console/archives", "/console/keys", "/console/webhooks"]) {
    await visit(page, path);
  }
  assert.equal(await page.getByTestId("nav-games").textContent(), "游戏");

  // A game's page (its name is the heading) and its version's deployment.
  await visit(page, `/console/games/${env("PLAYRACK_GAME_ID")}`, { h1: false });
  await shot(page, "console-zh-01-game");
  const deploy = await page.locator("a[href*='/deploy']").first().getAttribute("href");
  assert.ok(deploy, "the demo game has a version to deploy");
  await visit(page, deploy, { h1: false });
  await page.waitForFunction(() => document.querySelector("[data-testid=room-state]")?.textContent === "就绪", null, { timeout: 30_000 });
  assert.match(await page.getByTestId("room-boards").first().textContent(), /^\d+\/\d+ 就绪/);

  // The demo link's campaign: its card opened once more here (counted within a second or so).
  const code = new URL(env("PLAYRACK_LINK_URL")).pathname.split("/").pop();
  assert.equal((await page.request.get(`${portal()}/v1/play/links/${code}`)).status(), 200);
  await visit(page, "/console/campaigns");
  const demo = page.getByTestId("campaign-link").filter({ hasText: /^demo$/ });
  await Promise.all([page.waitForURL(/campaign=demo/), demo.click()]);
  await until("the demo campaign's opens", async () => {
    await page.reload();
    return /^[1-9]\d* 次打开，\d+ 次试玩，\d+ 次转化。$/.test(await page.getByTestId("campaign-total").textContent());
  }, 15_000, 500);
  assert.equal(await page.getByTestId("chart-plays").count(), 1, "a chart of plays per day");
  assert.deepEqual(await english(page, { h1: false }), []);
  await shot(page, "console-zh-campaigns");

  // Times in the reader's zone and language; money as Chinese writes the platform's currency.
  await page.goto(`${portal()}/console/usage`);
  const when = page.getByTestId("usage-total").locator("time").first();
  assert.match(await when.textContent(), /^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}$/);
  assert.match(await when.getAttribute("title"), / UTC$/);
  assert.match(await page.locator("main").innerText(), /(?<!CN)¥\d+\.\d{2}/);
  await shot(page, "console-zh-02-usage");

  // The header's switcher: English, and it sticks.
  await Promise.all([page.waitForURL(/lang=en/), page.getByTestId("lang-en").click()]);
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  assert.equal(await page.getByTestId("nav-games").textContent(), "Games");
  assert.match(await page.locator("main").innerText(), /CN¥\d+\.\d{2}/);
  await page.goto(`${portal()}/console/keys`);
  assert.equal(await page.locator("h1").textContent(), "API keys");
  await ctx.close();
});

test("the operator console in Chinese, page by page", async () => {
  const ctx = await context(browser, { locale: "zh-CN" });
  const page = await ctx.newPage();
  logConsole(page, "operator-zh");
  await signIn(page, env("PLAYRACK_OPERATOR_EMAIL"), env("PLAYRACK_OPERATOR_PASSWORD"));
  for (const path of ["/operator", "/operator/queue", "/operator/tenants", "/operator/orders", "/operator/bills", "/operator/specs", "/operator/switches", "/operator/maintenance", "/operator/audit"]) {
    await visit(page, path);
  }
  assert.equal(await page.getByTestId("nav-op-topology").textContent(), "拓扑");

  // An array's heat map and a board's page (their names are the headings).
  await page.goto(`${portal()}/operator`);
  const array = await page.locator(`#room-${env("PLAYRACK_ROOM_ID")}`).getByTestId("array-link").first().getAttribute("href");
  await visit(page, array, { h1: false });
  await shot(page, "console-zh-03-heat-map");
  const board = await page.getByTestId("board-cell").first().getAttribute("href");
  assert.ok(board, "a heat-map cell links its board");
  await visit(page, board, { h1: false });
  await shot(page, "console-zh-04-board");
  await ctx.close();
});
