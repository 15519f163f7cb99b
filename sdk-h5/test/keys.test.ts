import { test } from "node:test";
import assert from "node:assert/strict";
import { keyToMessages, textMessages } from "../src/keys.js";
import { MAX_TEXT_BYTES } from "../src/generated/wire.js";

test("special keys become Android key codes, down and up", () => {
  const cases: [string, number][] = [
    ["Enter", 66],
    ["Backspace", 67],
    ["ArrowUp", 19],
    ["ArrowDown", 20],
    ["ArrowLeft", 21],
    ["ArrowRight", 22],
    ["Tab", 61],
    ["F12", 142],
  ];
  for (const [key, keycode] of cases) {
    assert.deepEqual(keyToMessages({ type: "keydown", key }), {
      messages: [{ t: "key", action: "down", keycode, meta: 0 }],
      consumed: true,
    });
    assert.deepEqual(keyToMessages({ type: "keyup", key }).messages, [{ t: "key", action: "up", keycode, meta: 0 }]);
  }
  assert.deepEqual(keyToMessages({ type: "keydown", key: "ArrowUp", shiftKey: true }).messages, [
    { t: "key", action: "down", keycode: 19, meta: 1 },
  ]);
});

test("printable characters are text on keydown; Escape is back; shortcuts stay with the browser", () => {
  assert.deepEqual(keyToMessages({ type: "keydown", key: "a" }).messages, [{ t: "text", text: "a" }]);
  assert.deepEqual(keyToMessages({ type: "keydown", key: "A", shiftKey: true }).messages, [{ t: "text", text: "A" }]);
  assert.deepEqual(keyToMessages({ type: "keydown", key: " " }).messages, [{ t: "text", text: " " }]);
  assert.deepEqual(keyToMessages({ type: "keydown", key: "é" }).messages, [{ t: "text", text: "é" }]);
  assert.deepEqual(keyToMessages({ type: "keyup", key: "a" }), { messages: [], consumed: true });
  assert.deepEqual(keyToMessages({ type: "keydown", key: "Escape" }).messages, [{ t: "back" }]);
  assert.deepEqual(keyToMessages({ type: "keydown", key: "c", ctrlKey: true }), { messages: [], consumed: false });
  assert.deepEqual(keyToMessages({ type: "keydown", key: "Dead", isComposing: true }), { messages: [], consumed: false });
  assert.deepEqual(keyToMessages({ type: "keydown", key: "Unidentified" }), { messages: [], consumed: false });
});

test("long text is split at MAX_TEXT_BYTES without cutting a character", () => {
  const text = "é".repeat(200); // 400 bytes
  const parts = textMessages(text);
  assert.equal(parts.length, 2);
  const enc = new TextEncoder();
  for (const p of parts) {
    assert.equal(p.t, "text");
    if (p.t === "text") assert.ok(enc.encode(p.text).length <= MAX_TEXT_BYTES);
  }
  assert.equal(parts.map((p) => (p.t === "text" ? p.text : "")).join(""), text);
  assert.deepEqual(textMessages(""), []);
});
