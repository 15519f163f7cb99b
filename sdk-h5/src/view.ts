/**
 * The DOM side: a `<video playsinline autoplay muted>` filling the container (letterboxed with
 * `object-fit: contain`, optionally rotated), frame callbacks (requestVideoFrameCallback, or
 * an animation-frame fallback), the probe square read through a tiny canvas, and the pointer
 * and keyboard listeners, which hand plain samples to the pure mappings in `input.ts` and
 * `keys.ts`. Everything the player needs from the page goes through the {@link View}
 * interface, so the player runs in Node tests with a fake view.
 */
import type { Geometry, PointerSample, RelativeSample, Rotation, WheelSample } from "./input.js";
import type { ImeSample, KeySample } from "./keys.js";
import { isLit, meanLuma, probeSampleRect } from "./probe.js";
import type { FrameMeta } from "./stats.js";

export interface InputHandlers {
  pointer(ev: PointerSample, g: Geometry): void;
  /** Returns true when the key was consumed (default prevented). */
  key(ev: KeySample): boolean;
  /** A finished IME composition or soft-keyboard text (see `imeToMessages`). */
  ime(ev: ImeSample): void;
  /** A wheel (or trackpad) turn over the video. */
  wheel(ev: WheelSample, g: Geometry): void;
  /** The mouse moved, clicked or turned its wheel while the video holds pointer lock. */
  relative(ev: RelativeSample): void;
  /** Pointer lock was taken or released (by the page, the player's Esc, the browser). */
  pointerLock(locked: boolean): void;
  /** Any user gesture (for the audio autoplay policy). */
  gesture(): void;
  /** Pointers must be released (focus lost). */
  blur(): void;
}

export interface View {
  attach(stream: MediaStream): void;
  detach(): void;
  setMuted(muted: boolean): void;
  /** The decoded picture's size (0×0 before the first frame). */
  videoSize(): { width: number; height: number };
  /**
   * Calls `cb(time, meta)` for every frame presented (`meta` from requestVideoFrameCallback,
   * absent in the fallback); returns a function that stops it.
   */
  onFrame(cb: (time: number, meta?: FrameMeta) => void): () => void;
  /** Whether the probe square of the current frame is lit; null when it cannot be read. */
  readProbeLit(): boolean | null;
  bindInput(h: InputHandlers): () => void;
  /** Opens the soft keyboard (phones): call it from a tap's handler. */
  showKeyboard(): void;
  /** Takes pointer lock on the video (from a user gesture); resolves whether it holds it. */
  lockPointer(): Promise<boolean>;
  unlockPointer(): void;
  destroy(): void;
}

type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: FrameMeta) => void) => number;
  cancelVideoFrameCallback?: (h: number) => void;
};

/** The browser view inside `container`. */
export function createDomView(container: HTMLElement, rotation: Rotation = 0): View {
  const doc = container.ownerDocument;
  const video = doc.createElement("video") as FrameCallbackVideo;
  video.setAttribute("playsinline", "");
  video.setAttribute("autoplay", "");
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  video.disablePictureInPicture = true;
  video.style.cssText =
    "display:block;background:#000;object-fit:contain;touch-action:none;user-select:none;-webkit-user-select:none;outline:none";
  if (getComputedStyle(container).position === "static") container.style.position = "relative";
  if (!container.hasAttribute("tabindex")) container.tabIndex = 0;
  container.style.overflow = "hidden";
  container.appendChild(video);
  // Where keys and text go while the stream has focus: an editable element, because IMEs
  // (Chinese input) and phones' soft keyboards only work on one. Invisible and out of the way;
  // 16 px text so iOS does not zoom when it takes focus.
  const typing = doc.createElement("textarea");
  typing.setAttribute("aria-label", "Keyboard input to the game");
  typing.setAttribute("autocapitalize", "off");
  typing.setAttribute("autocomplete", "off");
  typing.setAttribute("autocorrect", "off");
  typing.spellcheck = false;
  typing.style.cssText =
    "position:absolute;left:0;bottom:0;width:1px;height:1px;opacity:0;border:0;padding:0;margin:0;resize:none;font-size:16px;pointer-events:none;caret-color:transparent";
  container.appendChild(typing);

  const layout = () => {
    const sideways = rotation === 90 || rotation === 270;
    Object.assign(video.style, {
      position: "absolute",
      left: sideways ? "50%" : "0",
      top: sideways ? "50%" : "0",
      width: sideways ? `${container.clientHeight}px` : "100%",
      height: sideways ? `${container.clientWidth}px` : "100%",
      transform: sideways ? `translate(-50%,-50%) rotate(${rotation}deg)` : rotation ? `rotate(${rotation}deg)` : "none",
    });
  };
  layout();
  const ro = typeof ResizeObserver === "function" ? new ResizeObserver(layout) : undefined;
  ro?.observe(container);

  let canvas: HTMLCanvasElement | undefined;
  let ctx: CanvasRenderingContext2D | null = null;

  const view: View = {
    attach(stream) {
      if (video.srcObject !== stream) video.srcObject = stream;
      video.play().catch(() => undefined);
    },
    detach() {
      video.srcObject = null;
    },
    setMuted(muted) {
      video.muted = muted;
      if (!muted) video.play().catch(() => undefined);
    },
    videoSize: () => ({ width: video.videoWidth, height: video.videoHeight }),
    onFrame(cb) {
      let stopped = false;
      if (typeof video.requestVideoFrameCallback === "function") {
        let h = 0;
        const loop = (now: number, meta: FrameMeta) => {
          if (stopped) return;
          cb(now, meta);
          h = video.requestVideoFrameCallback!(loop);
        };
        h = video.requestVideoFrameCallback(loop);
        return () => {
          stopped = true;
          video.cancelVideoFrameCallback?.(h);
        };
      }
      // fallback: an animation frame that sees a new video time or a new decoded frame
      let last = -1;
      let h = 0;
      const tick = (now: number) => {
        if (stopped) return;
        const q = video.getVideoPlaybackQuality?.();
        const marker = q ? q.totalVideoFrames : video.currentTime;
        if (marker !== last && video.readyState >= 2) {
          last = marker;
          cb(now);
        }
        h = requestAnimationFrame(tick);
      };
      h = requestAnimationFrame(tick);
      return () => {
        stopped = true;
        cancelAnimationFrame(h);
      };
    },
    readProbeLit() {
      const w = video.videoWidth;
      if (!w || !video.videoHeight) return null;
      if (!canvas) {
        canvas = doc.createElement("canvas");
        canvas.width = 8;
        canvas.height = 8;
        ctx = canvas.getContext("2d", { willReadFrequently: true });
      }
      if (!ctx) return null;
      const r = probeSampleRect(w);
      try {
        ctx.drawImage(video, r.x, r.y, r.width, r.height, 0, 0, 8, 8);
        return isLit(meanLuma(ctx.getImageData(0, 0, 8, 8).data));
      } catch {
        return null;
      }
    },
    bindInput(h) {
      const geometry = (): Geometry => {
        const b = video.getBoundingClientRect();
        return {
          rect: { left: b.left, top: b.top, width: b.width, height: b.height },
          videoWidth: video.videoWidth,
          videoHeight: video.videoHeight,
          rotation,
        };
      };
      const locked = () => doc.pointerLockElement === video;
      const pointer = (type: PointerSample["type"]) => (e: PointerEvent) => {
        if (locked()) {
          // A captured mouse moves relatively and has no position over the picture.
          e.preventDefault();
          if (type === "down") h.gesture();
          if (type !== "cancel") h.relative({ dx: e.movementX, dy: e.movementY, buttons: e.buttons, wheel: 0 });
          return;
        }
        if (type === "down") {
          h.gesture();
          // A mouse's keyboard types into the hidden input (IMEs need one); a touch does not
          // open the soft keyboard — showKeyboard() does.
          if (e.pointerType === "mouse") typing.focus({ preventScroll: true });
          else if (doc.activeElement !== typing) container.focus({ preventScroll: true });
          try {
            video.setPointerCapture(e.pointerId);
          } catch {
            /* not capturable */
          }
        }
        if (type === "move" && e.pointerType === "mouse" && e.buttons === 0) return;
        e.preventDefault();
        h.pointer(
          { type, id: e.pointerId, pointerType: e.pointerType, clientX: e.clientX, clientY: e.clientY, pressure: e.pressure },
          geometry(),
        );
      };
      const key = (e: KeyboardEvent) => {
        if (e.type === "keydown") h.gesture();
        const consumed = h.key({
          type: e.type as "keydown" | "keyup",
          key: e.key,
          shiftKey: e.shiftKey,
          altKey: e.altKey,
          ctrlKey: e.ctrlKey,
          metaKey: e.metaKey,
          isComposing: e.isComposing,
        });
        if (consumed) e.preventDefault();
      };
      const ime = (e: Event) => {
        const composing = e.type === "input" && (e as InputEvent).isComposing;
        h.ime({
          type: e.type as ImeSample["type"],
          data: (e as InputEvent | CompositionEvent).data ?? null,
          inputType: (e as InputEvent).inputType,
          isComposing: composing,
        });
        // Sent: the field starts empty again (never while the IME still composes in it).
        if (!composing) typing.value = "";
      };
      // Turning the wheel over the game scrolls the game, not the page.
      const wheel = (e: WheelEvent) => {
        e.preventDefault();
        if (locked()) {
          if (e.deltaY) h.relative({ dx: 0, dy: 0, buttons: e.buttons, wheel: e.deltaY < 0 ? 1 : -1 });
          return;
        }
        h.wheel(
          { clientX: e.clientX, clientY: e.clientY, deltaX: e.deltaX, deltaY: e.deltaY, deltaMode: e.deltaMode },
          geometry(),
        );
      };
      const listeners: [EventTarget, string, EventListener][] = [
        [video, "wheel", wheel as EventListener],
        [video, "pointerdown", pointer("down") as EventListener],
        [video, "pointermove", pointer("move") as EventListener],
        [video, "pointerup", pointer("up") as EventListener],
        [video, "pointercancel", pointer("cancel") as EventListener],
        [video, "contextmenu", ((e: Event) => e.preventDefault()) as EventListener],
        [container, "keydown", key as EventListener],
        [container, "keyup", key as EventListener],
        [container, "blur", (() => h.blur()) as EventListener],
        [typing, "compositionend", ime as EventListener],
        [typing, "input", ime as EventListener],
        [doc, "pointerlockchange", (() => h.pointerLock(locked())) as EventListener],
      ];
      for (const [t, n, l] of listeners) t.addEventListener(n, l, { passive: false });
      return () => {
        for (const [t, n, l] of listeners) t.removeEventListener(n, l);
      };
    },
    showKeyboard() {
      typing.focus({ preventScroll: true });
    },
    async lockPointer() {
      if (doc.pointerLockElement === video) return true;
      try {
        // Chromium answers with a promise; other browsers return nothing and fire
        // pointerlockchange or pointerlockerror.
        const ask = video.requestPointerLock() as unknown as Promise<void> | undefined;
        if (ask) await ask;
        else {
          await new Promise<void>((resolve) => {
            const done = () => {
              doc.removeEventListener("pointerlockchange", done);
              doc.removeEventListener("pointerlockerror", done);
              resolve();
            };
            doc.addEventListener("pointerlockchange", done);
            doc.addEventListener("pointerlockerror", done);
          });
        }
      } catch {
        return false;
      }
      return doc.pointerLockElement === video;
    },
    unlockPointer() {
      if (doc.pointerLockElement === video) doc.exitPointerLock();
    },
    destroy() {
      ro?.disconnect();
      video.srcObject = null;
      video.remove();
      typing.remove();
    },
  };
  return view;
}
