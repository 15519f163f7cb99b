import { test } from "node:test";
import assert from "node:assert/strict";
import { GamepadTracker, gamepadMessage, vendorProduct, type GamepadLike } from "../src/gamepad.js";
import type { InputMessage } from "../src/generated/wire.js";

const pad = (index: number, pressed: number[] = [], axes = [0, 0, 0, 0]): GamepadLike => ({
  index,
  id: "045e-028e-Xbox 360 Wired Controller",
  connected: true,
  buttons: Array.from({ length: 18 }, (_, i) => ({ pressed: pressed.includes(i), value: pressed.includes(i) ? 1 : 0 })),
  axes,
});

test("the standard mapping becomes button bits, quantised axes and triggers", () => {
  const m = gamepadMessage(pad(1, [0, 7, 12, 17], [0.001, -2, NaN, 0.5]));
  assert.deepEqual(m, {
    t: "gamepad",
    pad: 1,
    buttons: 1 | (1 << 7) | (1 << 12),
    axes: [0, -1, 0, 0.5],
    triggers: [0, 1],
    vendor: 0x045e,
    product: 0x028e,
  });
  assert.equal(gamepadMessage(pad(8)), undefined, "past MAX_GAMEPADS");
  assert.deepEqual(vendorProduct("Pad (STANDARD GAMEPAD Vendor: 054c Product: 09cc)"), { vendor: 0x054c, product: 0x09cc });
  assert.deepEqual(vendorProduct("Unknown pad"), { vendor: 0, product: 0 });
});

test("the tracker sends changes, retries what the channel refused, and says when a pad goes", () => {
  const t = new GamepadTracker();
  const sent: InputMessage[] = [];
  let open = true;
  const send = (m: InputMessage) => (open ? (sent.push(m), true) : false);
  t.poll([pad(0), null], send);
  t.poll([pad(0)], send);
  assert.equal(sent.length, 1, "unchanged: nothing");
  open = false;
  t.poll([pad(0, [1])], send);
  open = true;
  t.poll([pad(0, [1])], send);
  assert.equal(sent.length, 2, "sent again once the channel took it");
  t.poll([{ ...pad(0), connected: false }], send);
  assert.deepEqual(sent.at(-1), { t: "gamepad_gone", pad: 0 });
  t.poll([], send);
  assert.equal(sent.length, 3);
});
