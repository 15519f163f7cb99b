import { test } from "node:test";
import assert from "node:assert/strict";
import { imeToMessages, keyToMessages, textMessages } from "../src/keys.js";
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

test("an IME's composition is sent once, when it ends; soft keyboards' text, backspace and enter too", () => {
  assert.deepEqual(imeToMessages({ type: "compositionend", data: "中文" }), [{ t: "text", text: "中文" }]);
  assert.deepEqual(imeToMessages({ type: "compositionend", data: "" }), []);
  // drafts while composing, and the composition text's own input events, are not sent
  assert.deepEqual(imeToMessages({ type: "input", data: "zh", inputType: "insertCompositionText", isComposing: true }), []);
  assert.deepEqual(imeToMessages({ type: "input", data: "中", inputType: "insertCompositionText" }), []);
  // a phone's keyboard: text, backspace and enter come as input events, not keys
  assert.deepEqual(imeToMessages({ type: "input", data: "ok", inputType: "insertText" }), [{ t: "text", text: "ok" }]);
  assert.deepEqual(imeToMessages({ type: "input", data: "pasted", inputType: "insertFromPaste" }), [{ t: "text", text: "pasted" }]);
  assert.deepEqual(imeToMessages({ type: "input", data: null, inputType: "deleteContentBackward" }), [
    { t: "key", action: "down", keycode: 67, meta: 0 },
    { t: "key", action: "up", keycode: 67, meta: 0 },
  ]);
  assert.deepEqual(imeToMessages({ type: "input", data: null, inputType: "insertLineBreak" }), [
    { t: "key", action: "down", keycode: 66, meta: 0 },
    { t: "key", action: "up", keycode: 66, meta: 0 },
  ]);
  assert.deepEqual(imeToMessages({ type: "input", data: null, inputType: "formatBold" }), []);
  // long compositions are split like typed text
  const long = "中".repeat(MAX_TEXT_BYTES);
  const parts = imeToMessages({ type: "compositionend", data: long });
  assert.ok(parts.length > 1);
  assert.equal(parts.map((m) => (m.t === "text" ? m.text : "")).join(""), long);
});
