/**
 * Room selection input: the round-trip time to each room's probe endpoint, measured from the
 * player's browser (a few timed `fetch`es, the median kept; failures and timeouts skipped) and
 * sent as `rtt_ms` in the acquire so the controller places the play in the best-connected room.
 */
import type { RoomProbe } from "./generated/wire.js";

export interface RttOptions {
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** Milliseconds, monotonic (performance.now). */
  now: () => number;
  /** Timed requests per room (after one warm-up that opens the connection). Default 3. */
  samples?: number;
  /** Whole-measurement budget in ms; rooms not done by then are left out. Default 1500. */
  timeoutMs?: number;
  /** Resolves probe URLs relative to the controller. */
  resolve?: (url: string) => string;
}

/** The median of a non-empty list (the lower middle for even lengths, so always a sample). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Measures every room in parallel; returns `{room_id: ms}` for the rooms that answered. */
export async function measureRooms(rooms: RoomProbe[], opts: RttOptions): Promise<Record<string, number>> {
  const samples = opts.samples ?? 3;
  const deadline = opts.now() + (opts.timeoutMs ?? 1500);
  const controller = typeof AbortController === "function" ? new AbortController() : undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      controller?.abort();
      resolve();
    }, Math.max(0, deadline - opts.now()));
  });
  const result: Record<string, number> = {};
  const one = async (room: RoomProbe) => {
    const url = opts.resolve ? opts.resolve(room.probe_url) : room.probe_url;
    const init: RequestInit = { cache: "no-store", mode: "cors" };
    if (controller) init.signal = controller.signal;
    const times: number[] = [];
    for (let i = 0; i <= samples && opts.now() < deadline; i++) {
      const t0 = opts.now();
      try {
        const res = await opts.fetch(url, init);
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok && res.type !== "opaque") continue;
      } catch {
        if (controller?.signal.aborted) return;
        continue;
      }
      // the first request pays for DNS, TCP and TLS: not a round trip
      if (i > 0) times.push(opts.now() - t0);
    }
    if (times.length > 0) result[room.room_id] = Math.max(0, Math.round(median(times)));
  };
  await Promise.race([Promise.all(rooms.map(one)), timeout]);
  clearTimeout(timer);
  controller?.abort();
  return result;
}
