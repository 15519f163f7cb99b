// (f) A full board: the game is deployed only to a room of one board with one slot, and the
// tenant's order allows more plays than that. A second player is queued behind the first; when
// the first leaves, the board takes its instance back (reset, warm again) and the second player
// is promoted onto it and plays — never shown an error while the board is still resetting.

import { test, before, after } from "node:test";
import { env, launch, context, shot, logConsole, play, waitState, framesDecoded, until } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("a queued player is promoted onto a full one-slot board and plays", async () => {
  const url = env("PLAYRACK_FULL_BOARD_LINK_URL");
  const first = await (await context(browser)).newPage();
  const second = await (await context(browser)).newPage();
  logConsole(first, "first");
  logConsole(second, "second");

  await play(first, url, "playing");
  await play(second, url, "queued");
  await until("position 1", async () => (await second.getByTestId("queue-position").textContent()) === "1", 15_000);
  await shot(second, "player-10-full-board-queued");

  await first.getByTestId("leave").click();
  await waitState(first, "ended", 30_000);
  const t0 = Date.now();
  await waitState(second, "playing", 90_000);
  console.log(`the second player started ${Date.now() - t0} ms after the first left the full board`);
  const n = await framesDecoded(second);
  await until("the second player's frames to advance", async () => (await framesDecoded(second)) > n + 10, 20_000);
  await shot(second, "player-11-full-board-promoted-playing");
  await second.getByTestId("leave").click();
  await waitState(second, "ended", 30_000);
});
