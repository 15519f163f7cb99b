// Resumable APK upload (tus 1.0 through the portal's /api proxy), for <form data-upload="{game}">.
// The file goes in chunks; after a dropped connection the client asks the server where it
// stands (HEAD → Upload-Offset) and goes on from there, with backoff. The upload's URL is kept
// in localStorage, so choosing the same file again after a reload resumes it too.

import { api, toast, msg } from "/assets/app.js";

const CHUNK = 4 * 1024 * 1024;
const MAX_FAILURES = 30;
const TUS = "1.0.0";
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class UploadError extends Error {
  constructor(message, code, retry) { super(message); this.code = code; this.retry = retry; }
}

async function problemOf(resp) {
  try { const p = await resp.json(); return new UploadError(`${p.detail} (${p.code})`, p.code, false); }
  catch { return new UploadError(`HTTP ${resp.status}`, `HTTP_${resp.status}`, resp.status >= 500); }
}

async function create(gameId, file) {
  const resp = await fetch(`/api/games/${encodeURIComponent(gameId)}/uploads`, {
    method: "POST",
    headers: { "x-csrf-token": csrf, "tus-resumable": TUS, "upload-length": String(file.size) },
  });
  if (resp.status !== 201) throw await problemOf(resp);
  const body = await resp.json();
  return { location: resp.headers.get("location"), versionId: body.version_id };
}

/** The server's offset, or null when the upload is gone (expired, cancelled, finished). */
async function offsetOf(location) {
  const resp = await fetch(location, { method: "HEAD", headers: { "tus-resumable": TUS } });
  if (resp.status === 404 || resp.status === 410) return null;
  if (!resp.ok) throw new UploadError(`HTTP ${resp.status}`, `HTTP_${resp.status}`, true);
  return Number(resp.headers.get("upload-offset"));
}

/** PATCHes one chunk with XHR (fetch has no upload progress). Resolves the new offset. */
function patch(location, offset, blob, onProgress, state) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    state.xhr = xhr;
    xhr.open("PATCH", location);
    xhr.setRequestHeader("x-csrf-token", csrf);
    xhr.setRequestHeader("tus-resumable", TUS);
    xhr.setRequestHeader("upload-offset", String(offset));
    xhr.setRequestHeader("content-type", "application/offset+octet-stream");
    xhr.upload.onprogress = (e) => onProgress(offset + e.loaded);
    xhr.onload = () => {
      if (xhr.status === 204) {
        resolve({ offset: Number(xhr.getResponseHeader("upload-offset")), version: xhr.getResponseHeader("playrack-version") });
        return;
      }
      let p = null;
      try { p = JSON.parse(xhr.responseText); } catch { p = null; }
      const retry = xhr.status >= 500 || xhr.status === 423 || xhr.status === 429 || p?.code === "OFFSET_MISMATCH";
      reject(new UploadError(p ? `${p.detail} (${p.code})` : `HTTP ${xhr.status}`, p?.code ?? `HTTP_${xhr.status}`, retry));
    };
    xhr.onerror = () => reject(new UploadError("the connection dropped", "NETWORK", true));
    xhr.onabort = () => reject(new UploadError("cancelled", "CANCELLED", false));
    xhr.send(blob);
  });
}

async function settle(versionId, status) {
  for (let i = 0; i < 600; i++) {
    const v = await api("GET", `/api/versions/${encodeURIComponent(versionId)}`);
    if (v.state === "READY") return v;
    if (v.state === "FAILED") return v;
    status(msg("js-checking", { state: v.state.toLowerCase() }));
    await sleep(1000);
  }
  throw new UploadError("the APK check did not finish in time", "TIMEOUT", false);
}

function wire(form) {
  const gameId = form.dataset.upload;
  const input = form.querySelector("input[type=file]");
  const bar = form.querySelector("progress");
  const statusEl = form.querySelector(".status");
  const errorEl = form.querySelector(".error");
  const submit = form.querySelector("[type=submit]");
  const cancelBtn = form.querySelector("[data-upload-cancel]");
  const state = { xhr: null, cancelled: false, location: null };
  const status = (t) => { statusEl.textContent = t; };

  cancelBtn.addEventListener("click", async () => {
    state.cancelled = true;
    state.xhr?.abort();
    if (state.location) {
      await fetch(state.location, { method: "DELETE", headers: { "x-csrf-token": csrf, "tus-resumable": TUS } }).catch(() => {});
    }
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = input.files?.[0];
    if (!file) return;
    errorEl.textContent = "";
    submit.disabled = true;
    cancelBtn.hidden = false;
    bar.hidden = false;
    bar.value = 0;
    state.cancelled = false;
    const key = `playrack-upload:${gameId}:${file.name}:${file.size}:${file.lastModified}`;
    const show = (n) => {
      bar.value = Math.floor((n / file.size) * 100);
      status(msg("js-uploading", { file: file.name, pct: Math.floor((n / file.size) * 100), done: (n / 1048576).toFixed(1), total: (file.size / 1048576).toFixed(1) }));
    };
    try {
      let saved = null;
      try { saved = JSON.parse(localStorage.getItem(key) || "null"); } catch { saved = null; }
      let offset = null;
      if (saved) {
        offset = await offsetOf(saved.location).catch(() => null);
        if (offset !== null) status(msg("js-resuming", { file: file.name, pct: Math.floor((offset / file.size) * 100) }));
      }
      if (offset === null) {
        saved = await create(gameId, file);
        localStorage.setItem(key, JSON.stringify(saved));
        offset = 0;
      }
      state.location = saved.location;
      let failures = 0;
      let version = null;
      while (offset < file.size) {
        if (state.cancelled) throw new UploadError(msg("js-upload-cancelled"), "CANCELLED", false);
        try {
          const r = await patch(saved.location, offset, file.slice(offset, offset + CHUNK), show, state);
          offset = r.offset;
          version = r.version || version;
          failures = 0;
          show(offset);
        } catch (e) {
          if (!e.retry || state.cancelled) throw e;
          failures += 1;
          if (failures > MAX_FAILURES) throw new UploadError(msg("js-upload-network"), "NETWORK", false);
          const wait = Math.min(15000, 500 * 2 ** Math.min(failures, 5));
          status(msg("js-upload-retry", { code: e.code, secs: Math.round(wait / 1000) }));
          await sleep(wait);
          const at = await offsetOf(saved.location).catch(() => undefined);
          if (at === null) throw new UploadError(msg("js-upload-gone"), "UPLOAD_GONE", false);
          if (at !== undefined) offset = at;
        }
      }
      localStorage.removeItem(key);
      cancelBtn.hidden = true;
      status(msg("js-upload-complete"));
      const v = await settle(version || saved.versionId, status);
      if (v.state === "READY") {
        status(msg("js-upload-ready", { package: v.apk?.package ?? "", version: v.apk?.version_name ?? "", code: v.apk?.version_code ?? "" }));
      } else {
        errorEl.textContent = msg("js-apk-refused", { message: v.failure?.message ?? "", code: v.failure?.code ?? "FAILED" });
      }
      toast(msg("js-upload-finished"));
      setTimeout(() => location.reload(), 2500);
    } catch (e) {
      if (e.code === "CANCELLED") localStorage.removeItem(key);
      errorEl.textContent = e.code === "CANCELLED" ? msg("js-upload-cancelled") : msg("js-upload-failed", { message: e.message });
      status("");
    } finally {
      submit.disabled = false;
      cancelBtn.hidden = true;
      state.xhr = null;
    }
  });
}

for (const form of document.querySelectorAll("form[data-upload]")) wire(form);
