/**
 * The player's phone's sensors and position for the game: `devicemotion`, `deviceorientation`
 * and Geolocation readings become `sensor` and `location` input messages in Android's axes
 * and units, at most one per kind every {@link SENSOR_INTERVAL_MS} (a game's `SENSOR_DELAY_GAME`
 * is 20 ms; the channel carries what matters, not every event). {@link SensorFeed} is pure,
 * fed plain samples and a clock; {@link browserSensors} is the browser's side (events,
 * iOS's motion permission, Geolocation).
 */
import type { InputMessage, SensorKind } from "./generated/wire.js";

/** The shortest interval between two readings of one sensor, in ms. */
export const SENSOR_INTERVAL_MS = 50;

export interface MotionSample {
  /** m/s², the device's axes (x right, y up, z out of the screen), gravity included. */
  accelerationIncludingGravity: { x: number | null; y: number | null; z: number | null } | null;
  /** deg/s about z (alpha), x (beta) and y (gamma). */
  rotationRate: { alpha: number | null; beta: number | null; gamma: number | null } | null;
}

export interface OrientationSample {
  alpha: number | null;
  beta: number | null;
  gamma: number | null;
}

export interface PositionSample {
  latitude: number;
  longitude: number;
  accuracy: number;
}

const RAD = Math.PI / 180;
const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);
const bounded = (v: number) => Math.max(-10_000, Math.min(10_000, v));

/** Acceleration and rotation rate (deg/s about z, x, y → rad/s about x, y, z, as Android). */
export function motionMessages(ev: MotionSample): InputMessage[] {
  const out: InputMessage[] = [];
  const a = ev.accelerationIncludingGravity;
  if (a && finite(a.x) && finite(a.y) && finite(a.z)) {
    out.push({ t: "sensor", kind: "accelerometer", values: [a.x, a.y, a.z].map(bounded) });
  }
  const r = ev.rotationRate;
  if (r && finite(r.alpha) && finite(r.beta) && finite(r.gamma)) {
    out.push({ t: "sensor", kind: "gyroscope", values: [r.beta * RAD, r.gamma * RAD, r.alpha * RAD].map(bounded) });
  }
  return out;
}

/**
 * The device's orientation as Android's orientation sensor reports it: azimuth clockwise from
 * north (360 − alpha, which turns counter-clockwise), pitch positive as the top of the phone
 * tilts away (−beta), roll positive tilting right (gamma).
 */
export function orientationMessage(ev: OrientationSample): InputMessage | undefined {
  if (!finite(ev.alpha) || !finite(ev.beta) || !finite(ev.gamma)) return undefined;
  const azimuth = (360 - (((ev.alpha % 360) + 360) % 360)) % 360;
  return { t: "sensor", kind: "orientation", values: [azimuth, -ev.beta || 0, ev.gamma] };
}

/** A Geolocation fix. */
export function locationMessage(p: PositionSample): InputMessage | undefined {
  if (!finite(p.latitude) || !finite(p.longitude) || Math.abs(p.latitude) > 90 || Math.abs(p.longitude) > 180) {
    return undefined;
  }
  const accuracy = finite(p.accuracy) ? Math.min(1_000_000, Math.max(0, p.accuracy)) : 1_000_000;
  return { t: "location", lat: p.latitude, lon: p.longitude, accuracy };
}

/** Sends readings, each kind at most once per SENSOR_INTERVAL_MS. */
export class SensorFeed {
  private readonly sentAt = new Map<SensorKind, number>();

  constructor(
    private readonly send: (m: InputMessage) => boolean,
    private readonly now: () => number,
  ) {}

  motion(ev: MotionSample): void {
    for (const m of motionMessages(ev)) this.sensor(m);
  }

  orientation(ev: OrientationSample): void {
    const m = orientationMessage(ev);
    if (m) this.sensor(m);
  }

  position(p: PositionSample): void {
    const m = locationMessage(p);
    if (m) this.send(m);
  }

  private sensor(m: InputMessage): void {
    if (m.t !== "sensor") return;
    const t = this.now();
    const last = this.sentAt.get(m.kind);
    if (last !== undefined && t - last < SENSOR_INTERVAL_MS) return;
    if (this.send(m)) this.sentAt.set(m.kind, t);
  }
}

/** Where readings come from: the browser's events, or a test's. */
export interface SensorSource {
  /** Motion permission: iOS asks the player (call from a gesture); true when granted or not asked. */
  requestMotion(): Promise<boolean>;
  /** Listens to `devicemotion` and `deviceorientation`; returns the function that stops. */
  watchMotion(on: { motion(ev: MotionSample): void; orientation(ev: OrientationSample): void }): () => void;
  /** Watches Geolocation (the browser asks the player); undefined without Geolocation. */
  watchPosition: ((on: (p: PositionSample) => void, error: (message: string) => void) => () => void) | undefined;
}

type PermissionAsker = { requestPermission?: () => Promise<"granted" | "denied" | string> };

/** The browser's sensors, or undefined outside a browser. */
export function browserSensors(): SensorSource | undefined {
  const w = globalThis as typeof globalThis & { DeviceMotionEvent?: PermissionAsker; DeviceOrientationEvent?: PermissionAsker };
  if (typeof w.addEventListener !== "function") return undefined;
  const geo = typeof navigator !== "undefined" ? navigator.geolocation : undefined;
  return {
    async requestMotion() {
      for (const ctor of [w.DeviceMotionEvent, w.DeviceOrientationEvent]) {
        if (typeof ctor?.requestPermission !== "function") continue;
        try {
          if ((await ctor.requestPermission()) !== "granted") return false;
        } catch {
          return false;
        }
      }
      return true;
    },
    watchMotion(on) {
      const motion = (e: Event) => on.motion(e as DeviceMotionEvent);
      const orientation = (e: Event) => on.orientation(e as DeviceOrientationEvent);
      w.addEventListener("devicemotion", motion);
      w.addEventListener("deviceorientation", orientation);
      return () => {
        w.removeEventListener("devicemotion", motion);
        w.removeEventListener("deviceorientation", orientation);
      };
    },
    watchPosition: geo
      ? (on, error) => {
          const id = geo.watchPosition(
            (p) => on({ latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy }),
            (e) => error(e.message),
            { enableHighAccuracy: true, maximumAge: 1000 },
          );
          return () => geo.clearWatch(id);
        }
      : undefined,
  };
}
