import { test } from "node:test";
import assert from "node:assert/strict";
import { containRect, normalisePoint, relativeToMouse, TouchTracker, wheelToScroll, type Geometry } from "../src/input.js";

test("a portrait video in a landscape box is pillarboxed", () => {
  // 720×1280 video in 1000×500: scale 500/1280, width 281.25, bars of 359.375 each side
  const c = containRect(1000, 500, 720, 1280);
  assert.equal(c.height, 500);
  assert.equal(c.width, 281.25);
  assert.equal(c.x, 359.375);
  assert.equal(c.y, 0);
});

test("page points map through the letterboxing to the video frame", () => {
  const rect = { left: 100, top: 50, width: 1000, height: 500 };
  // the picture spans x 459.375 .. 740.625 on the page
  assert.deepEqual(normalisePoint(459.375, 50, rect, 720, 1280), { x: 0, y: 0, inside: true });
  assert.deepEqual(normalisePoint(740.625, 550, rect, 720, 1280), { x: 1, y: 1, inside: true });
  const mid = normalisePoint(600, 300, rect, 720, 1280)!;
  assert.equal(mid.x, 0.5);
  assert.equal(mid.y, 0.5);
  // in the left black bar: outside, clamped to the edge
  assert.deepEqual(normalisePoint(200, 300, rect, 720, 1280), { x: 0, y: 0.5, inside: false });
  // no picture yet
  assert.equal(normalisePoint(600, 300, rect, 0, 0), null);
});

test("a landscape video in a portrait box is letterboxed top and bottom", () => {
  const rect = { left: 0, top: 0, width: 400, height: 800 };
  // 1280×720 scaled to 400×225, bars of 287.5 above and below
  const top = normalisePoint(200, 287.5, rect, 1280, 720)!;
  assert.equal(top.y, 0);
  assert.equal(top.inside, true);
  assert.equal(normalisePoint(200, 100, rect, 1280, 720)!.inside, false);
});

test("a video element rotated by 90° maps screen points back into the frame", () => {
  // a landscape 1280×720 game shown rotated 90° clockwise on a portrait 720×1280 screen: the
  // element's own box is 1280×720 and its bounding rect on screen is 720×1280
  const rect = { left: 0, top: 0, width: 720, height: 1280 };
  // the frame's top-left corner ends up at the screen's top-right
  const tl = normalisePoint(720, 0, rect, 1280, 720, 90)!;
  assert.deepEqual([tl.x, tl.y, tl.inside], [0, 0, true]);
  // the frame's bottom-left ends up at the screen's top-left
  const bl = normalisePoint(0, 0, rect, 1280, 720, 90)!;
  assert.deepEqual([bl.x, bl.y], [0, 1]);
  // the frame's top-right ends up at the screen's bottom-right
  const tr = normalisePoint(720, 1280, rect, 1280, 720, 90)!;
  assert.deepEqual([tr.x, tr.y], [1, 0]);
  const r270 = normalisePoint(0, 1280, rect, 1280, 720, 270)!;
  assert.deepEqual([r270.x, r270.y], [0, 0]);
  const r180 = normalisePoint(720, 1280, { left: 0, top: 0, width: 720, height: 1280 }, 720, 1280, 180)!;
  assert.deepEqual([r180.x, r180.y], [0, 0]);
});

const g: Geometry = { rect: { left: 0, top: 0, width: 720, height: 1280 }, videoWidth: 720, videoHeight: 1280 };
const down = (id: number, x: number, y: number, pointerType = "touch") =>
  ({ type: "down", id, pointerType, clientX: x, clientY: y }) as const;

test("fingers get stable slots; a freed slot is reused by the next finger", () => {
  const t = new TouchTracker();
  assert.equal(t.handle(down(11, 72, 128), g)!.pointer, 0);
  assert.equal(t.handle(down(12, 360, 640), g)!.pointer, 1);
  assert.equal(t.handle(down(13, 700, 1200), g)!.pointer, 2);
  const move = t.handle({ type: "move", id: 12, pointerType: "touch", clientX: 432, clientY: 640 }, g)!;
  assert.deepEqual(move, { t: "touch", phase: "move", pointer: 1, x: 0.6, y: 0.5 });
  const up = t.handle({ type: "up", id: 11, pointerType: "touch", clientX: 72, clientY: 128 }, g)!;
  assert.deepEqual(up, { t: "touch", phase: "up", pointer: 0, x: 0.1, y: 0.1 });
  // slot 0 is free again; 1 and 2 are still held
  assert.equal(t.handle(down(14, 10, 10), g)!.pointer, 0);
  assert.equal(t.handle({ type: "move", id: 13, pointerType: "touch", clientX: 700, clientY: 1200 }, g)!.pointer, 2);
  assert.equal(t.active, 3);
});

test("at most MAX_POINTERS fingers; the eleventh is ignored", () => {
  const t = new TouchTracker();
  for (let i = 0; i < 10; i++) assert.equal(t.handle(down(100 + i, 10 + i, 10), g)!.pointer, i);
  assert.equal(t.handle(down(200, 50, 50), g), null);
  assert.equal(t.handle({ type: "move", id: 200, pointerType: "touch", clientX: 1, clientY: 1 }, g), null);
});

test("the mouse is pointer 0; moves without a press and touches in the bars are ignored", () => {
  const t = new TouchTracker();
  const wide: Geometry = { rect: { left: 0, top: 0, width: 1000, height: 500 }, videoWidth: 720, videoHeight: 1280 };
  assert.equal(t.handle({ type: "move", id: 1, pointerType: "mouse", clientX: 500, clientY: 250 }, wide), null);
  assert.equal(t.handle(down(1, 100, 250, "mouse"), wide), null, "a press in the black bar");
  const d = t.handle(down(1, 500, 250, "mouse"), wide)!;
  assert.equal(d.pointer, 0);
  assert.equal(d.phase, "down");
  // dragging into the bar clamps to the picture's edge
  const m = t.handle({ type: "move", id: 1, pointerType: "mouse", clientX: 50, clientY: 250 }, wide)!;
  assert.equal(m.x, 0);
  assert.equal(t.handle({ type: "up", id: 1, pointerType: "mouse", clientX: 50, clientY: 250 }, wide)!.phase, "up");
  assert.equal(t.active, 0);
});

test("pressure is sent only when the device reports a real one; cancelAll releases every slot", () => {
  const t = new TouchTracker();
  const a = t.handle({ ...down(1, 10, 10), pressure: 0.5 }, g)!;
  assert.equal(a.pressure, undefined, "0.5 is the DOM default for buttons");
  const b = t.handle({ ...down(2, 10, 10), pressure: 0.8 }, g)!;
  assert.equal(b.pressure, 0.8);
  const cancelled = t.cancelAll();
  assert.deepEqual(
    cancelled.map((m) => [m.phase, m.pointer]),
    [
      ["cancel", 0],
      ["cancel", 1],
    ],
  );
  assert.equal(t.active, 0);
});

test("a wheel turn over the picture scrolls there, in notches, up for a wheel turned away", () => {
  // 720×1280 video filling a 360×640 element at the page's origin
  const g: Geometry = { rect: { left: 0, top: 0, width: 360, height: 640 }, videoWidth: 720, videoHeight: 1280 };
  assert.deepEqual(
    wheelToScroll({ clientX: 180, clientY: 160, deltaX: 0, deltaY: 100, deltaMode: 0 }, g),
    { t: "scroll", x: 0.5, y: 0.25, h: 0, v: -1 },
  );
  // lines and pages, sideways, clamped to ±16 notches
  assert.deepEqual(
    wheelToScroll({ clientX: 0, clientY: 0, deltaX: 6, deltaY: -3, deltaMode: 1 }, g),
    { t: "scroll", x: 0, y: 0, h: 2, v: 1 },
  );
  assert.deepEqual(
    wheelToScroll({ clientX: 360, clientY: 640, deltaX: 0, deltaY: 40, deltaMode: 2 }, g),
    { t: "scroll", x: 1, y: 1, h: 0, v: -16 },
  );
  // nothing turned, outside the picture, no picture yet
  assert.equal(wheelToScroll({ clientX: 10, clientY: 10, deltaX: 0, deltaY: 0, deltaMode: 0 }, g), null);
  assert.equal(wheelToScroll({ clientX: 500, clientY: 10, deltaX: 0, deltaY: 100, deltaMode: 0 }, g), null);
  assert.equal(wheelToScroll({ clientX: 10, clientY: 10, deltaX: 0, deltaY: 100, deltaMode: 0 }, { ...g, videoWidth: 0 }), null);
});

test("a locked mouse's motion is rounded and clamped; the wheel rides along", () => {
  assert.deepEqual(relativeToMouse({ dx: 3.6, dy: -5000, buttons: 0x21, wheel: 0 }), { t: "mouse", dx: 4, dy: -4096, buttons: 1 });
  assert.deepEqual(relativeToMouse({ dx: NaN, dy: 0, buttons: 0, wheel: -1 }), { t: "mouse", dx: 0, dy: 0, buttons: 0, wheel: -1 });
});
