// (g) An operator signs in, finds the room's array in the topology, sees the heat map (one
// cell per board, each online), drains a board (its cell's status becomes "draining"), then
// undrains it. Screenshots of the operator pages.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole } from "./lib/harness.mjs";

let browser;
let page;
before(async () => {
  browser = await launch();
  page = await (await context(browser)).newPage();
  logConsole(page, "operator");
  page.on("dialog", (d) => d.accept());
});
after(async () => {
  await browser?.close();
});

const boards = () => Number(env("PLAYRACK_BOARDS"));

test("the operator sees the topology and the heat map", async () => {
  await signIn(page, env("PLAYRACK_OPERATOR_EMAIL"), env("PLAYRACK_OPERATOR_PASSWORD"));
  await page.goto(`${portal()}/operator`);
  await page.getByTestId("topology-tree").waitFor();
  await shot(page, "operator-01-topology");
  const room = page.locator(`#room-${env("PLAYRACK_ROOM_ID")}`);
  await Promise.all([page.waitForURL(/\/operator\/arrays\//), room.getByTestId("array-link").first().click()]);
  const cells = page.getByTestId("board-cell");
  assert.equal(await cells.count(), boards());
  for (const c of await cells.all()) {
    assert.equal(await c.getAttribute("data-state"), "online");
    assert.equal(await c.getAttribute("data-status"), "active");
    assert.match(await c.getAttribute("class"), /heat-[0-4]/);
  }
  await shot(page, "operator-02-heat-map");
});

test("draining a board changes its cell", async () => {
  const arrayUrl = page.url();
  const cell = page.getByTestId("board-cell").first();
  const boardId = await cell.getAttribute("data-board-id");
  await Promise.all([page.waitForURL(/\/operator\/boards\//), cell.click()]);
  assert.equal(await page.getByTestId("board-status").textContent(), "active");
  await shot(page, "operator-03-board");
  await Promise.all([page.waitForEvent("load"), page.getByTestId("drain-board").click()]);
  assert.equal(await page.getByTestId("board-status").textContent(), "draining");
  await shot(page, "operator-04-board-draining");

  await page.goto(arrayUrl);
  const drained = page.locator(`[data-testid=board-cell][data-board-id="${boardId}"]`);
  assert.equal(await drained.getAttribute("data-status"), "draining");
  assert.match(await drained.getAttribute("class"), /status-draining/);
  assert.match(await drained.locator(".state").textContent(), /draining/);
  const others = page.locator(`[data-testid=board-cell]:not([data-board-id="${boardId}"])`);
  for (const c of await others.all()) assert.equal(await c.getAttribute("data-status"), "active");
  await shot(page, "operator-05-heat-map-draining");

  // back in service
  await page.goto(`${portal()}/operator/boards/${encodeURIComponent(boardId)}`);
  await Promise.all([page.waitForEvent("load"), page.getByTestId("undrain-board").click()]);
  assert.equal(await page.getByTestId("board-status").textContent(), "active");
});

test("every operator page renders", async () => {
  for (const p of ["", "/queue", "/tenants", "/orders", "/specs", "/audit"]) {
    const resp = await page.goto(`${portal()}/operator${p}`);
    assert.equal(resp.status(), 200, p);
    assert.equal(await page.locator("[data-testid=error]").count(), 0, `${p} shows an error`);
    await shot(page, `operator-page${p.replace("/", "-") || "-topology"}`);
  }
});
