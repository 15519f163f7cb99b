// (m) The inputs beyond touch and keys: a gamepad (Chromium here has none, so a test-only shim
// stands in for `navigator.getGamepads`; everything after it is the SDK's real path) is plugged
// into the game as a UHID gamepad and read as Android reads one; a mouse locked to the picture
// (`lockPointer`, taken on a click as browsers require) moves a captured pointer relatively;
// the phone's motion and orientation events and its Geolocation fix (the context's) reach the
// game's sensors and location provider on the `sensors` channel. The game's readouts are read
// back on the board with the operator's shell.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { env, launch, context, shot, logConsole, play, waitState, framePoint, until, playInstance, gameFile } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Reads `name` until `check(text)` holds; answers the text. A timeout says what was read last. */
async function gameFileUntil(where, name, what, check) {
  let last = "";
  try {
    const read = await until(what, async () => {
      last = await gameFile(where, name).catch((e) => `(unreadable: ${e.message})`);
      return check(last) ? { text: last } : null;
    }, 20_000, 300);
    return read.text;
  } catch (e) {
    throw new Error(`${e.message}; files/${name} read ${JSON.stringify(last)}`);
  }
}

test("a gamepad, a locked mouse, the phone's sensors and its position reach the game", async () => {
  const ctx = await context(browser, {
    permissions: ["geolocation", "accelerometer", "gyroscope", "magnetometer"],
    geolocation: { latitude: 31.2304, longitude: 121.4737, accuracy: 12 },
  });
  const page = await ctx.newPage();
  logConsole(page, "gamepad");
  await page.addInitScript(() => {
    // The shim: one standard pad, changed by the test through window.__pads.
    const buttons = () => Array.from({ length: 17 }, () => ({ pressed: false, touched: false, value: 0 }));
    window.__pads = [{ index: 0, id: "Test Pad (STANDARD GAMEPAD Vendor: 045e Product: 028e)", connected: true, mapping: "standard", buttons: buttons(), axes: [0, 0, 0, 0] }];
    Object.defineProperty(Navigator.prototype, "getGamepads", { value: () => window.__pads, configurable: true });
  });
  await play(page, env("PLAYRACK_LINK_URL"));
  const where = await playInstance(page);

  // The pad is plugged in at rest, then A + start + D-pad up, the left stick full left and the
  // right trigger half way.
  await gameFileUntil(where, "gamepads", "the pad plugged in", (t) => t.startsWith("3 - 0.00 0.00"));
  await page.evaluate(() => {
    const pad = window.__pads[0];
    for (const i of [0, 9, 12]) pad.buttons[i] = { pressed: true, touched: true, value: 1 };
    pad.buttons[7] = { pressed: false, touched: true, value: 0.5 };
    pad.axes = [-1, 0, 0, 0];
  });
  const pad = await gameFileUntil(where, "gamepads", "the pad's buttons and axes", (t) => t.includes("96,108"));
  assert.equal(pad.trim(), "3 96,108 -1.00 0.00 0.00 0.00 0.00 0.50 0 -1", "A and START held, stick left, R2 half, hat up");
  await page.evaluate(() => (window.__pads = []));
  await gameFileUntil(where, "gamepads", "the pad unplugged", (t) => t.trim() === "");

  // Pointer lock on a click; the locked mouse moves the game's captured pointer.
  await page.evaluate(() => {
    window.__locks = [];
    window.playrackPlayer.on("pointerlock", (e) => window.__locks.push(e.locked));
    document.querySelector("[data-testid=stream] video").addEventListener(
      "click",
      () => window.playrackPlayer.lockPointer().then((ok) => (window.__locked = ok)),
      { once: true },
    );
  });
  const p = await framePoint(page, 0.5, 0.5);
  await page.mouse.click(p.x, p.y);
  assert.equal(await until("pointer lock", () => page.evaluate(() => window.__locked), 10_000, 100), true);
  await page.mouse.move(p.x + 40, p.y + 30);
  await page.mouse.down();
  await page.mouse.move(p.x + 50, p.y + 50);
  const mouse = await gameFileUntil(where, "mouse", "the captured pointer's motion", (t) => t.startsWith("50 50 "));
  assert.equal(mouse.trim(), "50 50 1 0", "moved (50, 50) in all, the left button held");
  await page.mouse.up();
  await page.evaluate(() => window.playrackPlayer.unlockPointer());
  assert.deepEqual(await until("the lock released", async () => {
    const l = await page.evaluate(() => window.__locks);
    return l.length >= 2 ? l : null;
  }, 10_000, 100), [true, false]);
  await gameFileUntil(where, "mouse", "the left button released", (t) => t.startsWith("50 50 0"));

  // Sensors and position: on when the player taps (iOS asks for motion permission then).
  const on = await page.evaluate(() => window.playrackPlayer.enableSensors({ location: true }));
  assert.deepEqual(on, { motion: true, location: true });
  await page.evaluate(() => {
    window.dispatchEvent(
      new DeviceMotionEvent("devicemotion", {
        accelerationIncludingGravity: { x: 0.5, y: 9.5, z: 1 },
        rotationRate: { alpha: 0, beta: 90, gamma: 0 },
        interval: 16,
      }),
    );
    window.dispatchEvent(new DeviceOrientationEvent("deviceorientation", { alpha: 90, beta: 10, gamma: -5 }));
  });
  const sensors = await gameFileUntil(where, "sensors", "three sensors", (t) => t.trim().split("\n").length === 3);
  const lines = sensors.trim().split("\n");
  assert.equal(lines[0], "1 0.5 9.5 1", "the accelerometer (m/s²)");
  assert.match(lines[1], /^3 270 -10 -5$/, "the orientation: azimuth, pitch, roll");
  assert.match(lines[2], /^4 1\.570796\d* 0 0$/, "the gyroscope: 90 °/s about x in rad/s");
  const location = await gameFileUntil(where, "location", "the location fix", (t) => t.trim() !== "");
  assert.equal(location.trim(), "31.2304 121.4737 12");

  await shot(page, "gamepad-sensors-01");
  await page.getByTestId("leave").click();
  await waitState(page, "ended", 30_000);
  await ctx.close();
});
