import { test } from "node:test";
import assert from "node:assert/strict";
import { measureRooms, median } from "../src/rtt.js";

test("median keeps a real sample", () => {
  assert.equal(median([5]), 5);
  assert.equal(median([30, 10, 20]), 20);
  assert.equal(median([40, 10, 30, 20]), 20);
  assert.throws(() => median([]));
});

test("exact medians for one room; failing rooms are left out; relative URLs resolve", async () => {
  let t = 0;
  const delays = [300, 20, 90, 25];
  const urls: string[] = [];
  const inits: RequestInit[] = [];
  const rtt = await measureRooms(
    [
      { room_id: "good", probe_url: "/probe/good" },
      { room_id: "down", probe_url: "/probe/down" },
    ],
    {
      fetch: async (url, init) => {
        urls.push(url);
        inits.push(init!);
        if (url.includes("down")) throw new TypeError("Failed to fetch");
        t += delays.shift()!;
        return new Response("");
      },
      now: () => t,
      samples: 3,
      timeoutMs: 100_000,
      resolve: (u) => `https://ctl.example${u}`,
    },
  );
  assert.deepEqual(rtt, { good: 25 });
  assert.ok(urls.every((u) => u.startsWith("https://ctl.example/probe/")));
  assert.ok(inits.every((i) => i.cache === "no-store" && i.mode === "cors"));
});

test("the whole measurement is bounded by its timeout", async () => {
  const started = Date.now();
  const rtt = await measureRooms([{ room_id: "slow", probe_url: "https://slow.example" }], {
    fetch: (_url, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted")))),
    now: () => performance.now(),
    timeoutMs: 50,
  });
  assert.deepEqual(rtt, {});
  assert.ok(Date.now() - started < 2000);
});
