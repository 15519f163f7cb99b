// (t) A degrade switch, end to end: an operator pauses new plays for the whole platform from the
// switches page; a player who presses Play is queued and told why in their language ("new plays
// are paused", not an error); the operator turns the switch off with its button and the player
// starts playing without doing anything. While it is on, the tenant's live-sessions page says
// what the operator switched off. The switch's history shows both flips.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, portal, launch, context, shot, signIn, logConsole, play, waitState, controller, operatorToken, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  // Whatever happened above, the stack is left with no switch on.
  const op = await operatorToken();
  for (const s of await controller("GET", "/v1/switches", op)) {
    await controller("DELETE", `/v1/switches/${s.name}?scope=${encodeURIComponent(s.scope)}`, op);
  }
});

test("paused new plays queue a player with a clear word, and start when the switch is off", async () => {
  const opCtx = await context(browser);
  const op = await opCtx.newPage();
  logConsole(op, "switches-op");
  op.on("dialog", (d) => d.accept());
  await signIn(op, env("PLAYRACK_OPERATOR_EMAIL"), env("PLAYRACK_OPERATOR_PASSWORD"));
  await op.goto(`${portal()}/operator/switches`);
  assert.equal(await op.getByTestId("switch-off").count(), 0, "none on yet");
  await op.getByTestId("switch-name-input").selectOption("new_plays");
  await op.getByTestId("switch-scope-input").selectOption("platform");
  await op.getByTestId("switch-note-input").fill("browser drill");
  await Promise.all([op.waitForEvent("load"), op.getByTestId("switch-on-submit").click()]);
  const row = op.getByTestId("switches").locator("tbody tr").filter({ hasText: "browser drill" });
  assert.equal(await row.getByTestId("switch-name").textContent(), "Pause new plays");
  assert.equal(await row.getByTestId("switch-scope").getAttribute("data-scope"), "platform");
  await shot(op, "switches-01-on");

  const ctx = await context(browser);
  const player = await ctx.newPage();
  logConsole(player, "switches-player");
  await play(player, env("PLAYRACK_LINK_URL"), "queued");
  await until("the reason to show", async () =>
    (await player.getByTestId("queue-reason").textContent()) === "New plays are paused for a moment; you keep your place in line.", 15_000, 200);
  await shot(player, "switches-02-player-paused");

  // The tenant's console says what is switched off.
  const tnCtx = await context(browser);
  const tn = await tnCtx.newPage();
  logConsole(tn, "switches-tenant");
  await signIn(tn, env("PLAYRACK_TENANT_EMAIL"), env("PLAYRACK_TENANT_PASSWORD"));
  await tn.goto(`${portal()}/console/sessions`);
  const affecting = tn.getByTestId("switches-affecting");
  assert.deepEqual(await affecting.locator("li").evaluateAll((lis) => lis.map((li) => li.dataset.switch)), ["new_plays"]);
  assert.match(await affecting.textContent(), /Pause new plays/);
  await tnCtx.close();

  await Promise.all([op.waitForEvent("load"), row.getByTestId("switch-off").click()]);
  await waitState(player, "playing", 60_000);
  await player.getByTestId("leave").click();
  await waitState(player, "ended", 30_000);

  const h = await controller("GET", "/v1/history/switch:new_plays@platform", await operatorToken());
  assert.deepEqual(h.items.slice(0, 2).map((e) => e.action), ["switch.off", "switch.on"]);
  await ctx.close();
  await opCtx.close();
});
