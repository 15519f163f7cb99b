/**
 * The player's gamepads: the Gamepad API's state, polled, becomes `gamepad` input messages
 * when it changes and `gamepad_gone` when a pad is unplugged; the board plugs each into the
 * game as a real Android gamepad. Pure: {@link GamepadTracker} is fed snapshots (what
 * `navigator.getGamepads()` returns) and answers with messages, so it runs in Node tests.
 */
import { MAX_GAMEPADS, type InputMessage } from "./generated/wire.js";

/** What the SDK reads of a `Gamepad`. */
export interface GamepadLike {
  index: number;
  id: string;
  connected: boolean;
  buttons: readonly { pressed: boolean; value: number }[];
  axes: readonly number[];
}

/** Buttons of the W3C standard mapping sent (0–16); the rest of a pad's buttons are not. */
const BUTTONS = 17;
/** Axes move in steps of 1/256: a resting stick's noise does not flood the channel. */
const STEP = 256;

const quantise = (v: number, lo: number) =>
  Number.isFinite(v) ? Math.round(Math.min(1, Math.max(lo, v)) * STEP) / STEP : 0;

/**
 * The USB vendor and product ids in a `Gamepad.id`: Chromium writes "… (Vendor: 045e
 * Product: 028e)", Firefox "045e-028e-…". Zero when absent.
 */
export function vendorProduct(id: string): { vendor: number; product: number } {
  const m = /Vendor: ([0-9a-f]{4}) Product: ([0-9a-f]{4})/i.exec(id) ?? /^([0-9a-f]{4})-([0-9a-f]{4})-/i.exec(id);
  return m ? { vendor: parseInt(m[1]!, 16), product: parseInt(m[2]!, 16) } : { vendor: 0, product: 0 };
}

/** A pad's state as a `gamepad` message; undefined past MAX_GAMEPADS. */
export function gamepadMessage(pad: GamepadLike): InputMessage | undefined {
  if (pad.index < 0 || pad.index >= MAX_GAMEPADS) return undefined;
  let buttons = 0;
  for (let i = 0; i < Math.min(BUTTONS, pad.buttons.length); i++) {
    if (pad.buttons[i]?.pressed) buttons |= 1 << i;
  }
  const axis = (i: number) => quantise(pad.axes[i] ?? 0, -1);
  const trigger = (i: number) => quantise(pad.buttons[i]?.value ?? 0, 0);
  const msg: InputMessage = {
    t: "gamepad",
    pad: pad.index,
    buttons,
    axes: [axis(0), axis(1), axis(2), axis(3)],
    triggers: [trigger(6), trigger(7)],
  };
  const { vendor, product } = vendorProduct(pad.id);
  if (vendor || product) Object.assign(msg, { vendor, product });
  return msg;
}

/**
 * Remembers what the board last took per pad and sends what changed. A message the channel
 * did not take (closed during a reconnect) is sent again at the next poll.
 */
export class GamepadTracker {
  private readonly last = new Map<number, string>();

  /** Sends the messages for a new snapshot of `navigator.getGamepads()`. */
  poll(pads: readonly (GamepadLike | null | undefined)[], send: (m: InputMessage) => boolean): void {
    const seen = new Set<number>();
    for (const pad of pads) {
      if (!pad || !pad.connected) continue;
      const msg = gamepadMessage(pad);
      if (!msg) continue;
      seen.add(pad.index);
      const key = JSON.stringify(msg);
      if (this.last.get(pad.index) !== key && send(msg)) this.last.set(pad.index, key);
    }
    for (const index of [...this.last.keys()]) {
      if (!seen.has(index) && send({ t: "gamepad_gone", pad: index })) this.last.delete(index);
    }
  }
}
