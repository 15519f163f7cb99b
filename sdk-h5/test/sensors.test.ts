import { test } from "node:test";
import assert from "node:assert/strict";
import { SensorFeed, locationMessage, motionMessages, orientationMessage } from "../src/sensors.js";
import type { InputMessage } from "../src/generated/wire.js";

test("motion and orientation are in Android's axes and units", () => {
  assert.deepEqual(
    motionMessages({ accelerationIncludingGravity: { x: 1, y: 2, z: 3 }, rotationRate: { alpha: 90, beta: 180, gamma: 0 } }),
    [
      { t: "sensor", kind: "accelerometer", values: [1, 2, 3] },
      { t: "sensor", kind: "gyroscope", values: [Math.PI, 0, Math.PI / 2] },
    ],
  );
  assert.deepEqual(motionMessages({ accelerationIncludingGravity: { x: null, y: 0, z: 0 }, rotationRate: null }), []);
  assert.deepEqual(orientationMessage({ alpha: 0, beta: 45, gamma: 10 }), { t: "sensor", kind: "orientation", values: [0, -45, 10] });
  assert.deepEqual(orientationMessage({ alpha: 450, beta: 0, gamma: 0 }), { t: "sensor", kind: "orientation", values: [270, 0, 0] });
  assert.equal(orientationMessage({ alpha: null, beta: 0, gamma: 0 }), undefined);
});

test("locations outside the globe are not sent; accuracy is bounded", () => {
  assert.deepEqual(locationMessage({ latitude: 39.9, longitude: 116.4, accuracy: 5e9 }), {
    t: "location",
    lat: 39.9,
    lon: 116.4,
    accuracy: 1_000_000,
  });
  assert.equal(locationMessage({ latitude: 91, longitude: 0, accuracy: 1 }), undefined);
  assert.equal(locationMessage({ latitude: NaN, longitude: 0, accuracy: 1 }), undefined);
});

test("each sensor is sent at most every 50 ms, kinds independently", () => {
  let now = 0;
  const sent: InputMessage[] = [];
  const feed = new SensorFeed((m) => (sent.push(m), true), () => now);
  const motion = { accelerationIncludingGravity: { x: 0, y: 0, z: 9.8 }, rotationRate: null };
  feed.motion(motion);
  feed.orientation({ alpha: 1, beta: 2, gamma: 3 });
  now = 49;
  feed.motion(motion);
  assert.equal(sent.length, 2);
  now = 50;
  feed.motion(motion);
  assert.equal(sent.length, 3);
});
