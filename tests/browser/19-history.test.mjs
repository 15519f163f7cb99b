// (s) Change history in the consoles: a tenant changes a link's settings in the links page's
// edit form (a new campaign, the play limit cleared), opens the link's history — the change is
// there with who made it and each field before → after — and restores the values it replaced
// with one button; the link has its old settings again and the restore heads the history. An
// operator opens an order's history from the orders page and restores its priority likewise.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole, controller, operatorToken, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const tenant = () => env("PLAYRACK_TENANT_TOKEN");

/** The fields of a history row's changes, as `field: before → after` lines. */
const changes = (row) =>
  row.getByTestId("history-changes").locator("li").evaluateAll((lis) => lis.map((li) => li.textContent.trim()));

test("a tenant edits a link, reads its history and restores the old settings", async () => {
  const made = await controller("POST", "/v1/links", tenant(), {
    game_id: env("PLAYRACK_GAME_ID"), trial_seconds: 90, campaign: "autumn", max_plays: 25,
  });
  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "history");
  page.on("dialog", (d) => d.accept());
  await signIn(page, env("PLAYRACK_TENANT_EMAIL"), env("PLAYRACK_TENANT_PASSWORD"));

  await page.goto(`${portal()}/console/links`);
  const row = page.getByTestId("links").locator("tbody tr").filter({ hasText: `/play/${made.code}` });
  await row.getByTestId("edit-link").click();
  await row.getByTestId("edit-campaign-input").fill("winter");
  await row.getByTestId("edit-max-input").fill("");
  await Promise.all([page.waitForEvent("load"), row.getByTestId("edit-link-submit").click()]);
  const edited = await controller("GET", `/v1/links/${made.id}`, tenant());
  assert.equal(edited.campaign, "winter");
  assert.equal(edited.max_plays, undefined, "an emptied field clears the limit");
  assert.equal(edited.trial_seconds, 90, "an untouched field stays");

  await Promise.all([
    page.waitForURL((u) => u.pathname === `/console/history/${made.id}`),
    page.getByTestId("links").locator("tbody tr").filter({ hasText: `/play/${made.code}` }).getByTestId("history-link").click(),
  ]);
  const rows = page.getByTestId("history").locator("tbody tr");
  assert.deepEqual(await rows.getByTestId("history-action").allTextContents(), ["link.update", "link.create"]);
  assert.deepEqual(await changes(rows.first()), ["campaign: autumn → winter", "max_plays: 25 → —"]);
  await shot(page, "history-01-link");

  await Promise.all([page.waitForEvent("load"), rows.first().getByTestId("history-restore").click()]);
  await until("the restore to head the history", async () =>
    (await rows.first().getByTestId("history-action").textContent()) === "link.restore", 15_000, 200);
  assert.deepEqual(await changes(rows.first()), ["campaign: winter → autumn", "max_plays: — → 25"]);
  const back = await controller("GET", `/v1/links/${made.id}`, tenant());
  assert.equal(back.campaign, "autumn");
  assert.equal(back.max_plays, 25);
  await ctx.close();
});

test("an operator reads an order's history and restores its priority", async () => {
  const op = await operatorToken();
  const orders = await controller("GET", "/v1/orders?limit=200", op);
  const order = orders.items.find((o) => o.status === "active");
  assert.ok(order, "the demo stack has an active order");
  const was = order.priority;
  await controller("PATCH", `/v1/orders/${order.id}`, op, { priority: was + 7 });

  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "history-op");
  page.on("dialog", (d) => d.accept());
  await signIn(page, env("PLAYRACK_OPERATOR_EMAIL"), env("PLAYRACK_OPERATOR_PASSWORD"));
  await page.goto(`${portal()}/operator/orders`);
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/operator/history/${order.id}`),
    page.getByTestId("orders").locator("tbody tr").filter({ hasText: order.id }).getByTestId("history-link").click(),
  ]);
  const rows = page.getByTestId("history").locator("tbody tr");
  assert.equal(await rows.first().getByTestId("history-action").textContent(), "order.update");
  assert.deepEqual(await changes(rows.first()), [`priority: ${was} → ${was + 7}`]);
  await Promise.all([page.waitForEvent("load"), rows.first().getByTestId("history-restore").click()]);
  await until("the order's priority to come back", async () =>
    (await controller("GET", `/v1/orders/${order.id}`, op)).priority === was, 15_000, 200);
  assert.equal(await rows.first().getByTestId("history-action").textContent(), "order.restore");
  await shot(page, "history-02-order");
  await ctx.close();
});
