// (w) Bills in both consoles: the tenant's Bills page shows this period's open statement (the
// id the controller gives it, its lines — the demo order's concurrency among them — and
// totals) with CSV and JSON downloads through the portal that agree with each other line for
// line; the operator's Bills page lists tenants, and picking the demo tenant shows the same
// statement. Reading only: the scenarios before and after are untouched.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole, controller, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const tenant = () => env("PLAYRACK_TENANT_TOKEN");

/** CSV text as rows of fields (the controller quotes fields with commas or quotes). */
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field); rows.push(row); row = []; field = ""; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test("a tenant reads this period's statement and downloads it; an operator reads it too", async () => {
  const open = await controller("GET", "/v1/bills/current", tenant());
  assert.equal(open.state, "open");
  assert.ok(open.items.some((i) => i.kind === "concurrency" && i.amount_micros > 0), JSON.stringify(open.items));

  const ctx = await context(browser);
  const page = await ctx.newPage();
  logConsole(page, "bills");
  await signIn(page, env("PLAYRACK_TENANT_EMAIL"), env("PLAYRACK_TENANT_PASSWORD"));
  await page.goto(`${portal()}/console/bills`);
  const statement = page.getByTestId("statement");
  assert.equal(await statement.getAttribute("data-bill"), open.id);
  assert.equal(await statement.getByTestId("bill-state").getAttribute("data-state"), "open");
  const kinds = await statement.getByTestId("bill-kind").evaluateAll((els) => els.map((e) => e.dataset.kind));
  assert.ok(kinds.includes("concurrency"), kinds.join());
  assert.match(await statement.getByTestId("bill-total").textContent(), /\d/);
  await shot(page, "bills-01-tenant");

  // The downloads, through the portal's proxy as the browser fetches them, agree line for line.
  const csvHref = await statement.getByTestId("bill-csv").getAttribute("href");
  const jsonHref = await statement.getByTestId("bill-json").getAttribute("href");
  const { csv, json } = await until("the CSV and JSON downloads to agree", async () => {
    const got = await page.evaluate(async ([c, j]) => {
      const [a, b] = await Promise.all([fetch(c), fetch(j)]);
      return { csv: await a.text(), json: await b.json(), type: a.headers.get("content-type"), disposition: a.headers.get("content-disposition") };
    }, [csvHref, jsonHref]);
    assert.match(got.type, /^text\/csv/);
    assert.match(got.disposition, new RegExp(`attachment; filename="${open.id}\\.csv"`));
    const rows = parseCsv(got.csv);
    return rows.length === got.json.items.length + 2 && rows.at(-1)[13] === String(got.json.total_micros) ? got : null;
  }, 15_000, 250);
  const rows = parseCsv(csv);
  assert.deepEqual(rows[0].slice(0, 8), ["bill_id", "tenant_id", "period_start", "period_end", "state", "currency", "line", "kind"]);
  assert.equal(json.id, open.id);
  json.items.forEach((item, n) => {
    assert.equal(rows[n + 1][7], item.kind);
    assert.equal(rows[n + 1][13], String(item.amount_micros));
  });
  assert.equal(rows.at(-1)[7], "total");
  await ctx.close();

  // The operator: every tenant, then the demo tenant's open statement.
  const opCtx = await context(browser);
  const op = await opCtx.newPage();
  logConsole(op, "bills-operator");
  await signIn(op, env("PLAYRACK_OPERATOR_EMAIL"), env("PLAYRACK_OPERATOR_PASSWORD"));
  await op.goto(`${portal()}/operator/bills`);
  await op.getByTestId("bill-tenant-picker").locator("select").selectOption(open.tenant_id);
  await Promise.all([op.waitForEvent("load"), op.getByTestId("bill-tenant-picker").locator("button").click()]);
  assert.equal(await op.getByTestId("statement").getAttribute("data-bill"), open.id);
  await shot(op, "bills-02-operator");
  await opCtx.close();
});
