// Operator console, board page: polls the board (there is no telemetry history endpoint) and
// draws rolling charts of CPU, memory in use and the hottest sensor as inline SVG polylines,
// and keeps the figures and the agent state current.
// Markup: <section data-board-telemetry="/api/boards/{id}" data-interval="3000"> holding
// [data-t=cpu|load1|mem|temps|disk|instances], [data-now=cpu|mem|temp], <svg data-chart=…
// data-min data-max> with a <polyline>, a [data-telemetry-live] checkbox and an alert element.
// Test hook: section.dataset.samples is the number of samples drawn so far.

import { api, ApiError, describe, msg } from "../app.js";

const KEEP = 100; // samples per chart (five minutes at 3 s)

const section = document.querySelector("[data-board-telemetry]");
if (section) start(section);

function start(section) {
  const url = section.dataset.boardTelemetry;
  const every = Math.max(1000, Number(section.dataset.interval) || 3000);
  const live = section.querySelector("[data-telemetry-live]");
  const error = section.querySelector("[data-telemetry-error]");
  const series = { cpu: [], mem: [], temp: [] };
  let samples = 0;
  let timer;

  const set = (sel, text) => {
    const el = section.querySelector(sel);
    if (el) el.textContent = text;
  };

  function draw(key) {
    const svg = section.querySelector(`svg[data-chart="${key}"]`);
    const line = svg?.querySelector("polyline");
    if (!line) return;
    const lo = Number(svg.dataset.min) || 0;
    const hi = Number(svg.dataset.max) || 100;
    const data = series[key];
    const step = 300 / (KEEP - 1);
    const x0 = 300 - step * (data.length - 1);
    const points = data
      .map((v, i) => {
        if (v == null) return null;
        const y = 100 - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * 100;
        return `${(x0 + i * step).toFixed(1)},${y.toFixed(1)}`;
      })
      .filter(Boolean)
      .join(" ");
    line.setAttribute("points", points);
  }

  function push(key, v) {
    const s = series[key];
    s.push(v);
    if (s.length > KEEP) s.shift();
    draw(key);
  }

  function show(board) {
    const t = board.telemetry;
    const state = document.querySelector("[data-board-state]");
    const stateText = msg(`op-agent-${board.agent_state}`);
    if (state && state.textContent !== stateText) {
      state.textContent = stateText;
      state.className = `badge agent-${board.agent_state}`;
    }
    if (!t || board.agent_state !== "online") {
      push("cpu", null); push("mem", null); push("temp", null);
      set('[data-now="cpu"]', "—"); set('[data-now="mem"]', "—"); set('[data-now="temp"]', "—");
      return;
    }
    const memPct = t.mem_total_mb ? (t.mem_used_mb / t.mem_total_mb) * 100 : null;
    const hottest = t.temperatures_c?.length ? Math.max(...t.temperatures_c) : null;
    push("cpu", t.cpu_percent);
    push("mem", memPct);
    push("temp", hottest);
    set('[data-now="cpu"]', `${t.cpu_percent.toFixed(0)}%`);
    set('[data-now="mem"]', memPct == null ? "—" : `${memPct.toFixed(0)}%`);
    set('[data-now="temp"]', hottest == null ? "—" : `${hottest.toFixed(0)} °C`);
    set('[data-t="cpu"]', `${t.cpu_percent.toFixed(0)}%`);
    set('[data-t="load1"]', t.load1.toFixed(2));
    set('[data-t="mem"]', msg("op-tele-mem-value", { used: t.mem_used_mb, total: t.mem_total_mb }));
    set('[data-t="temps"]', t.temperatures_c?.length ? t.temperatures_c.map((c) => `${c.toFixed(0)} °C`).join(", ") : "—");
    set('[data-t="disk"]', `${t.disk_free_mb} MB`);
    const slots = Object.values(board.capacity || {}).reduce((a, b) => a + b, 0);
    set('[data-t="instances"]', msg("op-tele-instances-value", { running: t.instances_running, warm: t.instances_warm, slots }));
  }

  async function tick() {
    timer = undefined;
    if (live && !live.checked) return;
    if (document.visibilityState !== "visible") {
      timer = setTimeout(tick, every);
      return;
    }
    try {
      const board = await api("GET", url);
      if (error) error.textContent = "";
      show(board);
      samples += 1;
      section.dataset.samples = String(samples);
    } catch (e) {
      if (error) error.textContent = msg("js-telemetry-failed", { error: describe(e) });
      if (e instanceof ApiError && (e.status === 404 || e.status === 403 || e.status === 401)) return;
    }
    timer = setTimeout(tick, every);
  }

  live?.addEventListener("change", () => {
    if (live.checked && timer === undefined) tick();
  });
  tick();
}
