/**
 * Keyboard input, pure: special keys become Android `key` messages (DOM `KeyboardEvent.code`
 * / `key` → Android KEYCODE_*), printable characters become `text` messages, Escape is the
 * Android back button. Shortcuts with Ctrl/Meta/Alt are left to the browser.
 */
import { MAX_TEXT_BYTES, type InputMessage } from "./generated/wire.js";

/** DOM `key` values → Android key codes. */
export const ANDROID_KEYCODES: Readonly<Record<string, number>> = {
  Enter: 66,
  Backspace: 67,
  Tab: 61,
  Delete: 112,
  ArrowUp: 19,
  ArrowDown: 20,
  ArrowLeft: 21,
  ArrowRight: 22,
  Home: 122,
  End: 123,
  PageUp: 92,
  PageDown: 93,
  Insert: 124,
  Shift: 59,
  Control: 113,
  Alt: 57,
  Meta: 117,
  CapsLock: 115,
  F1: 131,
  F2: 132,
  F3: 133,
  F4: 134,
  F5: 135,
  F6: 136,
  F7: 137,
  F8: 138,
  F9: 139,
  F10: 140,
  F11: 141,
  F12: 142,
  AudioVolumeUp: 24,
  AudioVolumeDown: 25,
  AudioVolumeMute: 164,
  MediaPlayPause: 85,
  ContextMenu: 82,
};

/** Android META_* bits for the modifiers held. */
export function metaState(ev: { shiftKey?: boolean; altKey?: boolean; ctrlKey?: boolean; metaKey?: boolean }): number {
  return (ev.shiftKey ? 0x1 : 0) | (ev.altKey ? 0x2 : 0) | (ev.ctrlKey ? 0x1000 : 0) | (ev.metaKey ? 0x10000 : 0);
}

export interface KeySample {
  type: "keydown" | "keyup";
  key: string;
  shiftKey?: boolean;
  altKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  isComposing?: boolean;
}

/**
 * The messages for one keyboard event, and whether the SDK consumed it (the page should then
 * `preventDefault()`). Space is sent as text (games read it as a character).
 */
export function keyToMessages(ev: KeySample): { messages: InputMessage[]; consumed: boolean } {
  if (ev.isComposing) return { messages: [], consumed: false };
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return { messages: [], consumed: false };
  if (ev.key === "Escape") {
    return { messages: ev.type === "keydown" ? [{ t: "back" }] : [], consumed: true };
  }
  if (ev.key.length > 0 && [...ev.key].length === 1) {
    // a printable character (incl. space): text on keydown only
    return { messages: ev.type === "keydown" ? [{ t: "text", text: ev.key }] : [], consumed: true };
  }
  const keycode = ANDROID_KEYCODES[ev.key];
  if (keycode === undefined) return { messages: [], consumed: false };
  return {
    messages: [{ t: "key", action: ev.type === "keydown" ? "down" : "up", keycode, meta: metaState(ev) }],
    consumed: true,
  };
}

/**
 * What the SDK's hidden text input saw besides keys: a finished IME composition (Chinese,
 * Japanese, Korean input), or text put in without key events — a phone's soft keyboard,
 * dictation, a paste.
 */
export interface ImeSample {
  type: "compositionend" | "input";
  data: string | null;
  /** `InputEvent.inputType`, for `input`. */
  inputType?: string;
  isComposing?: boolean;
}

const keyPress = (keycode: number): InputMessage[] => [
  { t: "key", action: "down", keycode, meta: 0 },
  { t: "key", action: "up", keycode, meta: 0 },
];

/**
 * The messages for an IME or soft-keyboard event: the composed text once, when the composition
 * ends (never its drafts); inserted text; backspace and line breaks as their keys. Keys the
 * keyboard listener already sent never reach here (it prevents their default).
 */
export function imeToMessages(ev: ImeSample): InputMessage[] {
  if (ev.type === "compositionend") return ev.data ? textMessages(ev.data) : [];
  if (ev.isComposing) return [];
  switch (ev.inputType) {
    case "insertText":
    case "insertReplacementText":
    case "insertFromPaste":
    case "insertFromDrop":
      return ev.data ? textMessages(ev.data) : [];
    case "deleteContentBackward":
      return keyPress(ANDROID_KEYCODES.Backspace!);
    case "insertLineBreak":
    case "insertParagraph":
      return keyPress(ANDROID_KEYCODES.Enter!);
    default:
      return [];
  }
}

/** Splits text into `text` messages of at most MAX_TEXT_BYTES UTF-8 bytes (never inside a character). */
export function textMessages(text: string): InputMessage[] {
  const out: InputMessage[] = [];
  const enc = new TextEncoder();
  let chunk = "";
  let bytes = 0;
  for (const ch of text) {
    const n = enc.encode(ch).length;
    if (bytes + n > MAX_TEXT_BYTES && chunk) {
      out.push({ t: "text", text: chunk });
      chunk = "";
      bytes = 0;
    }
    chunk += ch;
    bytes += n;
  }
  if (chunk) out.push({ t: "text", text: chunk });
  return out;
}
