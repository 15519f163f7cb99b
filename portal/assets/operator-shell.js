// Operator console: the audited shell. <form data-shell="/api/boards/{id}/shell"> with
// instance_id, command and timeout_secs fields: submitting starts a run
// (POST → ShellRun, 202) and polls /api/shell-runs/{id} until it is done or failed, writing the
// output into the form's [data-shell-output] <pre> (as text) and the state into
// [data-shell-status]. Errors land in the form's role=alert element.
// A form with [data-logcat] follows the instance's log: its command is built here from the
// `filter` (logcat filter specs) and `lines` (past lines) fields, and the run's time limit
// ending it is how following stops, so the status says so rather than "failed".
// A form with [data-agent-log] asks for the board agent's own log instead: it posts
// `{lines}` to the board's agent-log endpoint, answered as a run like a command's.
// Test hook: form.dataset.run is the current run id, form.dataset.runStatus its status.

import { api, describe, msg } from "../app.js";

const POLL_MS = 700;

for (const form of document.querySelectorAll("form[data-shell]")) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(form);
  });
}

async function run(form) {
  const out = form.querySelector("[data-shell-output]");
  const status = form.querySelector("[data-shell-status]");
  const error = form.querySelector("[role=alert]");
  const submit = form.querySelector("[type=submit]");
  const field = (name) => form.elements.namedItem(name)?.value?.trim() ?? "";
  const agentLog = "agentLog" in form.dataset;
  const body = agentLog
    ? { lines: Number.parseInt(field("lines"), 10) || 200 }
    : { instance_id: field("instance_id"), command: form.elements.namedItem("command").value };
  const following = "logcat" in form.dataset;
  if (following) {
    const filter = field("filter");
    if (!/^[A-Za-z0-9_.*: -]*$/.test(filter)) {
      form.querySelector("[role=alert]").textContent =
        "A filter is tag:priority pairs (letters, digits, _ . * - and :), e.g. ActivityManager:I *:S.";
      return;
    }
    const lines = Number.parseInt(field("lines"), 10) || 200;
    body.command = `logcat -v threadtime -T ${lines} ${filter}`.trim();
  }
  const timeout = Number.parseInt(field("timeout_secs"), 10);
  if (Number.isFinite(timeout) && !agentLog) body.timeout_secs = timeout;
  error.textContent = "";
  out.textContent = "";
  status.textContent = msg("js-shell-starting");
  submit.disabled = true;
  try {
    let r = await api("POST", form.dataset.shell, body);
    form.dataset.run = r.id;
    const deadline = Date.now() + ((body.timeout_secs || 30) + 15) * 1000;
    while (true) {
      out.textContent = r.output;
      form.dataset.runStatus = r.status;
      if (r.status !== "running") break;
      status.textContent = msg("js-shell-running", { id: r.id });
      if (Date.now() > deadline) {
        status.textContent = msg("js-shell-still-going", { id: r.id });
        return;
      }
      await new Promise((res) => setTimeout(res, POLL_MS));
      r = await api("GET", `/api/shell-runs/${encodeURIComponent(r.id)}`);
    }
    out.scrollTop = out.scrollHeight;
    const timedOut = r.status === "failed" && /timed out/.test(r.error || "");
    status.textContent = following && timedOut
      ? msg("js-shell-followed", { secs: body.timeout_secs || 30 })
      : r.status === "done"
        ? msg("js-shell-finished", { id: r.id, code: r.exit_code ?? "?" })
        : r.error ? msg("js-shell-failed-why", { id: r.id, error: r.error }) : msg("js-shell-failed", { id: r.id });
  } catch (e) {
    status.textContent = "";
    error.textContent = describe(e);
  } finally {
    submit.disabled = false;
  }
}
