// Playrack console: the small amount of script the server-rendered pages need.
// - `api(method, path, body)`: same-origin calls to the portal's /api proxy with the CSRF token.
// - <form data-api data-method data-then>: sends the form as JSON; `then` is "reload", "secret"
//   (show the answer's `secret` once) or a URL template with {id} from the answer.
// - <button data-api data-method [data-body] [data-confirm]>: one call, then reload.
// - [data-copy] / [data-copy-from]: copy to the clipboard.
// - [data-deployment]: polls per-room deployment progress.
// - [data-autoreload=N] checkbox: reloads the page every N seconds while checked.
// - <time datetime>: shown in the reader's time zone, in the page's language.
// - `msg(key, vars)`: the scripts' words in the page's language (<body data-messages>).

const messages = (() => {
  try { return JSON.parse(document.body?.dataset.messages || "{}"); } catch { return {}; }
})();

/** The message `key` in the page's language, its `{name}` placeholders filled from `vars`. */
export function msg(key, vars = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || `HTTP_${status}`;
    this.problem = problem;
  }
}

/** Calls the controller through the portal. Answers the parsed JSON (or null). */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { "x-csrf-token": csrf, ...headers }, credentials: "same-origin" };
  if (body !== undefined && body !== null) {
    if (body instanceof Blob || body instanceof ArrayBuffer) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
  }
  const resp = await fetch(path, init);
  if (resp.status === 401) {
    location.href = "/signin?next=" + encodeURIComponent(location.pathname + location.search);
    throw new ApiError(401, { code: "SIGNED_OUT", detail: msg("js-signed-out") });
  }
  const text = await resp.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!resp.ok) throw new ApiError(resp.status, json);
  return json;
}

export function toast(text) {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; }, 4000);
}

/**
 * A failed call, said to the user: on an English page the controller's own detail (it speaks
 * English), elsewhere the catalogue's words for the problem's code where it has them.
 */
export function describe(e) {
  if (!(e instanceof ApiError)) return String(e?.message || e);
  const key = `js-problem-${e.code}`;
  if (document.documentElement.lang !== "en" && key in messages) return `${msg(key, { detail: e.message })} (${e.code})`;
  return `${e.message} (${e.code})`;
}

function setPath(obj, name, value) {
  const parts = name.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] ??= {};
  o[parts[parts.length - 1]] = value;
}

/**
 * The form's fields as a JSON object (see data-kind). Empty optional fields are left out, except
 * in an edit form, where an emptied field marked `data-clear` clears the setting (`null`, or `[]`
 * for a list).
 */
export function formJson(form) {
  const out = {};
  const checks = new Map();
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.type === "submit" || el.type === "button" || el.type === "file") continue;
    const kind = el.dataset.kind;
    if (kind === "checks") {
      if (!checks.has(el.name)) checks.set(el.name, []);
      if (el.checked) checks.get(el.name).push(el.value);
      continue;
    }
    if (el.type === "checkbox") { setPath(out, el.name, el.checked); continue; }
    const v = el.value.trim();
    if (v === "") {
      if (el.dataset.clear !== undefined) setPath(out, el.name, kind === "list" ? [] : null);
      continue;
    }
    if (kind === "int") setPath(out, el.name, Number.parseInt(v, 10));
    else if (kind === "list") setPath(out, el.name, v.split(",").map((s) => s.trim()).filter(Boolean));
    else if (kind === "datetime") setPath(out, el.name, new Date(v).toISOString());
    else setPath(out, el.name, v);
  }
  for (const [k, v] of checks) setPath(out, k, v);
  return out;
}

function showSecret(scope, answer) {
  const box = scope.querySelector("[data-secret-box]") || document.querySelector("[data-secret-box]");
  document.querySelectorAll("[data-secret-box]").forEach((b) => { if (b !== box) b.hidden = true; });
  // A secret, or a link whose code is shown once (a watch link's page).
  const secret = answer?.secret ?? (answer?.path ? `${location.origin}${answer.path}` : undefined);
  if (!box || !secret) { location.reload(); return; }
  box.querySelector("[data-secret]").textContent = secret;
  box.hidden = false;
  box.querySelector("[data-copy-from]")?.focus();
}

function follow(then, answer, scope) {
  if (!then || then === "reload") location.reload();
  else if (then === "secret") showSecret(scope, answer);
  else location.href = then.replace("{id}", encodeURIComponent(answer?.id ?? ""));
}

document.addEventListener("submit", async (ev) => {
  const form = ev.target.closest("form[data-api]");
  if (!form) return;
  ev.preventDefault();
  const err = form.querySelector("[role=alert]");
  if (err) err.textContent = "";
  const submit = form.querySelector("[type=submit]");
  if (submit) submit.disabled = true;
  try {
    const answer = await api(form.dataset.method || "POST", form.dataset.api, formJson(form));
    follow(form.dataset.then, answer, form.parentElement);
  } catch (e) {
    if (err) { err.textContent = describe(e); err.focus?.(); } else toast(describe(e));
  } finally {
    if (submit) submit.disabled = false;
  }
});

document.addEventListener("click", async (ev) => {
  const copy = ev.target.closest("[data-copy],[data-copy-from]");
  if (copy) {
    const text = copy.dataset.copy ?? document.querySelector(copy.dataset.copyFrom)?.textContent ?? "";
    try { await navigator.clipboard.writeText(text); toast(msg("js-copied")); }
    catch { toast(msg("js-copy-failed")); }
    return;
  }
  const btn = ev.target.closest("button[data-api]");
  if (!btn) return;
  if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
  btn.disabled = true;
  try {
    const body = btn.dataset.body ? JSON.parse(btn.dataset.body) : undefined;
    const answer = await api(btn.dataset.method || "POST", btn.dataset.api, body);
    follow(btn.dataset.then, answer, btn.parentElement);
  } catch (e) {
    toast(describe(e));
    btn.disabled = false;
  }
});

// Deployment progress, per room.
for (const section of document.querySelectorAll("[data-deployment]")) {
  const url = section.dataset.deployment;
  const tick = async () => {
    try {
      const d = await api("GET", url);
      let busy = false;
      for (const r of d.rooms) {
        const id = CSS.escape(r.room_id);
        const st = section.querySelector(`[data-room-state="${id}"]`);
        const pr = section.querySelector(`[data-room-progress="${id}"]`);
        const pc = section.querySelector(`[data-room-percent="${id}"]`);
        const er = section.querySelector(`[data-room-error="${id}"]`);
        const vo = section.querySelector(`[data-room-volume="${id}"]`);
        const bo = section.querySelector(`[data-room-boards="${id}"]`);
        if (st) st.textContent = msg(`deploy-state-${r.state}`);
        if (pr) pr.value = r.progress_percent;
        if (pc) pc.textContent = `${r.progress_percent}%`;
        if (er) er.textContent = r.error ?? r.volume.error ?? "";
        // Said as the page says it (games.rs volume_text, boards_text).
        if (vo) {
          const v = r.volume;
          vo.textContent = v.state === "placing" ? msg("volume-placing", { pct: v.progress_percent })
            : v.state === "unreachable" ? msg("volume-unreachable", { attempts: v.attempts }) : msg("volume-placed");
        }
        if (bo) {
          const b = r.boards;
          bo.textContent = msg("boards-ready", { ready: b.ready, total: b.total })
            + (b.failed > 0 ? msg("boards-failed", { failed: b.failed }) : "");
        }
        busy ||= r.state === "pending" || r.state === "syncing" || r.volume.state !== "placed";
      }
      setTimeout(tick, busy ? 1500 : 5000);
    } catch {
      setTimeout(tick, 5000);
    }
  };
  setTimeout(tick, 1000);
}

// Auto-refresh (live sessions), paused while the user is typing.
for (const box of document.querySelectorAll("[data-autoreload]")) {
  const secs = Number(box.dataset.autoreload) || 10;
  const key = "autoreload:" + location.pathname;
  if (sessionStorage.getItem(key) === "off") box.checked = false;
  box.addEventListener("change", () => sessionStorage.setItem(key, box.checked ? "on" : "off"));
  setInterval(() => {
    const typing = document.activeElement?.matches?.("input:not([type=checkbox]),select,textarea");
    if (box.checked && !typing && document.visibilityState === "visible") location.reload();
  }, secs * 1000);
}

// Times: the server writes UTC; the reader sees their own time zone, in the page's language
// (the UTC instant stays in the tooltip).
{
  const lang = document.documentElement.lang || undefined;
  const fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" });
  for (const t of document.querySelectorAll("time[datetime]")) {
    const d = new Date(t.dateTime);
    if (Number.isNaN(d.getTime())) continue;
    t.title = t.textContent;
    t.textContent = fmt.format(d);
  }
}
