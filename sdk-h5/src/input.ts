/**
 * Pointer input, pure: maps a pointer's page position through the `<video>` element's
 * letterboxing (`object-fit: contain`) and an optional CSS rotation of the element to
 * coordinates normalised to the video frame (0..1), and turns pointer events into `touch`
 * messages with stable pointer slots 0..MAX_POINTERS-1 (the mouse is slot 0). A gesture that
 * starts in a black bar is ignored; a tracked pointer that leaves the picture is clamped to
 * its edge. Under pointer lock the mouse is relative instead: `mouse` messages.
 */
import {
  MAX_MOUSE_DELTA,
  MAX_POINTERS,
  MAX_SCROLL_NOTCHES,
  type InputMessageMouse,
  type InputMessageScroll,
  type InputMessageTouch,
  type TouchPhase,
} from "./generated/wire.js";

/** The element's box on the page (getBoundingClientRect). */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Clockwise rotation of the video element, in degrees (CSS `rotate()`). */
export type Rotation = 0 | 90 | 180 | 270;

/** The part of an element of `boxW`×`boxH` the picture covers (`object-fit: contain`). */
export function containRect(boxW: number, boxH: number, videoW: number, videoH: number) {
  if (boxW <= 0 || boxH <= 0 || videoW <= 0 || videoH <= 0) return { x: 0, y: 0, width: 0, height: 0 };
  const scale = Math.min(boxW / videoW, boxH / videoH);
  const width = videoW * scale;
  const height = videoH * scale;
  return { x: (boxW - width) / 2, y: (boxH - height) / 2, width, height };
}

/**
 * Where a page point lands in the video, normalised: `{x, y, inside}` (x/y clamped to 0..1;
 * `inside` false in the black bars or outside the element), or null when there is no picture.
 * `rect` is the element's bounding box as rendered (after rotation).
 */
export function normalisePoint(
  clientX: number,
  clientY: number,
  rect: Rect,
  videoW: number,
  videoH: number,
  rotation: Rotation = 0,
): { x: number; y: number; inside: boolean } | null {
  // back into the element's own (unrotated) box, whose size swaps at 90/270
  const sideways = rotation === 90 || rotation === 270;
  const boxW = sideways ? rect.height : rect.width;
  const boxH = sideways ? rect.width : rect.height;
  const dx = clientX - (rect.left + rect.width / 2);
  const dy = clientY - (rect.top + rect.height / 2);
  let ex: number;
  let ey: number;
  switch (rotation) {
    case 90:
      [ex, ey] = [dy, -dx];
      break;
    case 180:
      [ex, ey] = [-dx, -dy];
      break;
    case 270:
      [ex, ey] = [-dy, dx];
      break;
    default:
      [ex, ey] = [dx, dy];
  }
  ex += boxW / 2;
  ey += boxH / 2;
  const c = containRect(boxW, boxH, videoW, videoH);
  if (c.width <= 0 || c.height <= 0) return null;
  const x = (ex - c.x) / c.width;
  const y = (ey - c.y) / c.height;
  const inside = x >= 0 && x <= 1 && y >= 0 && y <= 1;
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return { x: clamp(x), y: clamp(y), inside };
}

/** A pointer event, as much of it as the mapping needs. */
export interface PointerSample {
  type: "down" | "move" | "up" | "cancel";
  /** The DOM pointerId. */
  id: number;
  /** "mouse", "touch" or "pen". */
  pointerType: string;
  clientX: number;
  clientY: number;
  /** 0..1; the DOM's default 0.5 for buttons counts as "unknown". */
  pressure?: number;
}

/** The geometry a mapping needs at the time of an event. */
export interface Geometry {
  rect: Rect;
  videoWidth: number;
  videoHeight: number;
  rotation?: Rotation;
}

/** A wheel event, as much of it as the mapping needs (`WheelEvent`'s fields). */
export interface WheelSample {
  clientX: number;
  clientY: number;
  deltaX: number;
  deltaY: number;
  /** 0 pixels, 1 lines, 2 pages (`WheelEvent.deltaMode`). */
  deltaMode: number;
}

/** Pixels, lines and pages per wheel notch (a notch scrolls 100 px or 3 lines in browsers). */
const PER_NOTCH = [100, 3, 1];

/**
 * A wheel turn over the picture as a `scroll` message: at the pointer's normalised position,
 * in notches (the browser's `deltaY` grows downwards, Android's vertical scroll upwards), each
 * axis clamped to ±MAX_SCROLL_NOTCHES. Null outside the picture or for a turn of nothing.
 */
export function wheelToScroll(ev: WheelSample, g: Geometry): InputMessageScroll | null {
  const at = normalisePoint(ev.clientX, ev.clientY, g.rect, g.videoWidth, g.videoHeight, g.rotation ?? 0);
  if (!at || !at.inside) return null;
  const per = PER_NOTCH[ev.deltaMode] ?? 100;
  const notches = (d: number) => {
    const n = Math.max(-MAX_SCROLL_NOTCHES, Math.min(MAX_SCROLL_NOTCHES, d / per));
    return Math.round(n * 100) / 100 || 0;
  };
  const h = notches(ev.deltaX);
  const v = notches(-ev.deltaY);
  if (h === 0 && v === 0) return null;
  return { t: "scroll", x: at.x, y: at.y, h, v };
}

/** A locked mouse's motion (CSS pixels), buttons (`MouseEvent.buttons`) and wheel notches. */
export interface RelativeSample {
  dx: number;
  dy: number;
  buttons: number;
  wheel: number;
}

/**
 * A locked mouse's sample as a `mouse` message: motion rounded and clamped to
 * ±MAX_MOUSE_DELTA, the five buttons `MouseEvent.buttons` and HID number alike (left, right,
 * middle, back, forward).
 */
export function relativeToMouse(ev: RelativeSample): InputMessageMouse {
  const clamp = (v: number) => (Number.isFinite(v) ? Math.max(-MAX_MOUSE_DELTA, Math.min(MAX_MOUSE_DELTA, Math.round(v))) : 0);
  const msg: InputMessageMouse = { t: "mouse", dx: clamp(ev.dx), dy: clamp(ev.dy), buttons: ev.buttons & 0x1f };
  if (ev.wheel) msg.wheel = Math.max(-127, Math.min(127, Math.round(ev.wheel)));
  return msg;
}

/**
 * Tracks pointers and assigns each a slot: the lowest free slot for touches and pens, slot 0
 * for the mouse. A slot is held from down to up/cancel; pointers beyond MAX_POINTERS are
 * ignored.
 */
export class TouchTracker {
  private slots = new Map<number, number>();
  private mouseKey = -1;

  /** The touch message for one pointer event, or null when it is ignored. */
  handle(ev: PointerSample, g: Geometry): InputMessageTouch | null {
    const key = ev.pointerType === "mouse" ? this.mouseKey : ev.id;
    const p = normalisePoint(ev.clientX, ev.clientY, g.rect, g.videoWidth, g.videoHeight, g.rotation ?? 0);
    if (ev.type === "down") {
      if (!p || !p.inside || this.slots.has(key)) return null;
      const slot = ev.pointerType === "mouse" ? this.freeMouseSlot() : this.freeSlot();
      if (slot === null) return null;
      this.slots.set(key, slot);
      return touch("down", slot, p, ev.pressure);
    }
    const slot = this.slots.get(key);
    if (slot === undefined) return null;
    if (ev.type === "move") {
      if (!p) return null;
      return touch("move", slot, p, ev.pressure);
    }
    this.slots.delete(key);
    const at = p ?? { x: 0, y: 0 };
    return touch(ev.type, slot, at, undefined);
  }

  /** Cancels every held pointer (e.g. the element lost focus or the stream restarted). */
  cancelAll(): InputMessageTouch[] {
    const out = [...this.slots.values()].map((slot) => touch("cancel", slot, { x: 0, y: 0 }, undefined));
    this.slots.clear();
    return out;
  }

  /** Slots in use. */
  get active(): number {
    return this.slots.size;
  }

  private freeSlot(): number | null {
    const used = new Set(this.slots.values());
    for (let i = 0; i < MAX_POINTERS; i++) if (!used.has(i)) return i;
    return null;
  }

  private freeMouseSlot(): number | null {
    // the mouse is pointer 0; if a finger holds 0, it takes the next free one
    return [...this.slots.values()].includes(0) ? this.freeSlot() : 0;
  }
}

function touch(
  phase: TouchPhase,
  pointer: number,
  p: { x: number; y: number },
  pressure: number | undefined,
): InputMessageTouch {
  const m: InputMessageTouch = { t: "touch", phase, pointer, x: round(p.x), y: round(p.y) };
  if (pressure !== undefined && pressure > 0 && pressure !== 0.5 && pressure <= 1 && phase !== "up") {
    m.pressure = round(pressure);
  }
  return m;
}

/** Five decimals: sub-pixel on any real display, and short messages. */
const round = (v: number) => Math.round(v * 1e5) / 1e5;
