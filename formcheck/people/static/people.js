// The people page: sign in; a clinician's dashboard (people, last session, flags), adding a
// person and giving a programme; a person's programme, suggestions (what changed and why),
// progress charts with their MDC95 bands and sessions. API: formcheck/people/routes.py.
"use strict";

const $ = (id) => document.getElementById(id);
let me = null;
let personId = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

async function api(path, options = {}) {
  const answer = await fetch(path, { credentials: "same-origin", ...options,
    headers: { "Content-Type": "application/json", ...(options.headers || {}) } });
  let body = null;
  try { body = await answer.json(); } catch { body = null; }
  if (!answer.ok) throw new Error((body && body.detail) || `HTTP ${answer.status}`);
  return body;
}

function showError(id, error) {
  $(id).textContent = error ? String(error.message || error) : "";
  $(id).hidden = !error;
}

function describe(prescription) {
  const parts = [];
  if (prescription.reps) parts.push(`${prescription.reps} reps`);
  if (prescription.hold_s) parts.push(`hold ${prescription.hold_s} s`);
  if (prescription.tempo) parts.push(`tempo ${prescription.tempo}`);
  if (prescription.depth_deg) parts.push(`depth ${prescription.depth_deg}°`);
  return parts.join(", ") || "no targets";
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");

// ---- signing in ----------------------------------------------------------------------------

async function start() {
  try {
    me = await api("/api/account/me");
  } catch {
    $("signin").hidden = false;
    return;
  }
  $("who").textContent = `${me.display_name} (${me.role})`;
  $("signout").hidden = false;
  $("tokens").hidden = false;
  await loadTokens();
  if (me.role === "clinician") {
    $("dashboard").hidden = false;
    await loadDashboard();
  } else {
    await openPerson(me.id);
  }
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("/api/account/login", { method: "POST",
      body: JSON.stringify({ username: $("username").value, password: $("password").value }) });
    $("signin").hidden = true;
    showError("signin-error", null);
    await start();
  } catch (error) { showError("signin-error", error); }
});

$("signout").addEventListener("click", async () => {
  await fetch("/api/account/logout", { method: "POST", credentials: "same-origin" });
  location.reload();
});

// ---- the clinician's dashboard ---------------------------------------------------------------

async function loadDashboard() {
  const rows = await api("/api/people");
  $("people-table").tBodies[0].replaceChildren(...rows.map((row) => {
    const open = el("button", { type: "button", class: "open-person", "data-person-id": row.id },
      row.display_name);
    open.addEventListener("click", () => openPerson(row.id));
    const flags = el("td", { class: "flags" }, ...row.flags.map((f) => el("span", { class: "flag" }, f)));
    return el("tr", { "data-person-id": row.id }, el("td", {}, open), el("td", {}, when(row.last_session_at)),
      el("td", {}, String(row.sessions_this_week)), flags, el("td", {}, String(row.open_suggestions)));
  }));
}

$("add-person-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("/api/people", { method: "POST", body: JSON.stringify({
      username: $("new-username").value, display_name: $("new-name").value,
      password: $("new-password").value }) });
    event.target.reset();
    showError("dashboard-error", null);
    await loadDashboard();
  } catch (error) { showError("dashboard-error", error); }
});

// ---- one person --------------------------------------------------------------------------------

async function openPerson(id) {
  personId = id;
  const person = await api(`/api/people/${id}`);
  $("person").hidden = false;
  $("person-title").textContent = person.display_name;
  $("export-csv").href = `/api/people/${id}/export.csv`;
  $("export-json").href = `/api/people/${id}/export.json`;
  $("print-report").href = `/people/${id}/report`;
  const items = person.programmes.flatMap((p) => p.items.map((item) => ({ ...item, programme: p.name })));
  $("programme").replaceChildren(...items.map((item) => el("li", { "data-item-id": item.id },
    `${item.programme}: ${item.exercise.replace(/_/g, " ")}, ${describe(item.prescription)} `,
    el("a", { href: `/?person=${id}&item=${item.id}`, class: "do-set" }, "do a set or upload"))));
  if (!items.length) $("programme").replaceChildren(el("li", {}, "No programme yet."));
  $("programme-form").hidden = me.role !== "clinician";
  const exercises = [...new Set(items.map((i) => i.exercise))];
  $("progress-exercise").replaceChildren(...exercises.map((e) => el("option", { value: e }, e)));
  await Promise.all([loadSuggestions(), loadProgress(), loadSessions()]);
}

async function loadSuggestions() {
  const suggestions = await api(`/api/people/${personId}/suggestions`);
  $("suggestions").replaceChildren(...suggestions.map((s) => {
    const line = el("li", { "data-suggestion-id": s.id, class: `suggestion ${s.status}` },
      el("strong", {}, `${s.exercise.replace(/_/g, " ")}: ${describe(s.before)} → ` +
        `${describe(s.applied || s.proposed)} (${s.status})`), el("br"), s.reason);
    if (s.status === "open" && me.role === "clinician") {
      const accept = el("button", { type: "button", class: "accept" }, "Accept");
      const dismiss = el("button", { type: "button", class: "dismiss" }, "Dismiss");
      const edit = el("input", { class: "edit-tempo", size: 8, placeholder: "tempo" });
      const apply = el("button", { type: "button", class: "edit" }, "Apply edited");
      accept.addEventListener("click", () => decide(s.id, { action: "accept" }));
      dismiss.addEventListener("click", () => decide(s.id, { action: "dismiss" }));
      apply.addEventListener("click", () => decide(s.id, { action: "edit",
        prescription: { ...s.proposed, ...(edit.value ? { tempo: edit.value } : {}) } }));
      line.append(el("br"), accept, " ", dismiss, " or edit: ", edit, apply);
    }
    return line;
  }));
  if (!suggestions.length) $("suggestions").replaceChildren(el("li", {}, "None yet."));
}

async function decide(id, body) {
  await api(`/api/suggestions/${id}/decision`, { method: "POST", body: JSON.stringify(body) });
  await openPerson(personId);
}

async function loadProgress() {
  const exercise = $("progress-exercise").value;
  if (!exercise) { $("charts").replaceChildren(); return; }
  const result = await api(`/api/people/${personId}/progress?exercise=${encodeURIComponent(exercise)}`);
  $("charts").replaceChildren(...Object.values(result.metrics)
    .filter((m) => m.points.length).map((m) => progressChart(m)));
}
$("progress-exercise").addEventListener("change", loadProgress);

async function loadSessions() {
  const sessions = await api(`/api/people/${personId}/sessions`);
  $("sessions-table").tBodies[0].replaceChildren(...sessions.reverse().map((s) => {
    const m = s.measures || {};
    const back = (m.rep_back_change_mm || []).filter((v) => v !== null);
    const mean = back.length ? (back.reduce((a, b) => a + b, 0) / back.length).toFixed(1) : "–";
    return el("tr", { "data-session-id": s.id }, el("td", {}, when(s.recorded_at)),
      el("td", {}, s.exercise), el("td", {}, `${s.source} (${s.state})`),
      el("td", {}, m.reps === undefined ? "–" : String(m.reps)), el("td", {}, mean),
      el("td", {}, s.effort === null ? "–" : String(s.effort)),
      el("td", {}, s.pain === null ? "–" : String(s.pain)), shareCell(s));
  }));
}

// An upload can be shared de-identified: skeleton and outline only, no camera pixels.
function shareCell(s) {
  const cell = el("td", { class: "share" });
  if (s.share_url) {
    cell.append(el("a", { href: s.share_url, target: "_blank", rel: "noopener" }, "shared copy"));
  } else if (s.source === "job") {
    const button = el("button", { type: "button", class: "share-button" }, "share (no camera pixels)");
    button.addEventListener("click", async () => {
      try {
        await api(`/api/sessions/${s.id}/share`, { method: "POST" });
        await loadSessions();
      } catch (error) { cell.textContent = String(error.message || error); }
    });
    cell.append(button);
  }
  return cell;
}

// ---- API tokens (GET/POST/DELETE /api/account/tokens) -----------------------------------------

async function loadTokens() {
  const tokens = await api("/api/account/tokens");
  $("tokens-table").tBodies[0].replaceChildren(...tokens.map((t) => {
    const revoke = el("button", { type: "button", class: "revoke" }, "Revoke");
    revoke.addEventListener("click", async () => {
      try {
        await api(`/api/account/tokens/${t.id}`, { method: "DELETE" });
        showError("tokens-error", null);
        await loadTokens();
      } catch (error) { showError("tokens-error", error); }
    });
    return el("tr", { "data-token-id": t.id }, el("td", {}, t.label || "–"),
      el("td", {}, when(t.created_at)), el("td", {}, t.expired ? "expired" : when(t.expires_at)),
      el("td", {}, when(t.last_used_at)), el("td", {}, revoke));
  }));
  if (!tokens.length) $("tokens-table").tBodies[0].replaceChildren(el("tr", {}, el("td", {}, "None.")));
}

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const made = await api("/api/account/tokens", { method: "POST",
      body: JSON.stringify({ label: $("token-label").value }) });
    $("token-secret").textContent = made.token;
    $("token-new").hidden = false;
    event.target.reset();
    showError("tokens-error", null);
    await loadTokens();
  } catch (error) { showError("tokens-error", error); }
});

$("programme-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const prescription = {};
  if ($("prog-reps").value) prescription.reps = Number($("prog-reps").value);
  if ($("prog-hold").value) prescription.hold_s = Number($("prog-hold").value);
  if ($("prog-tempo").value) prescription.tempo = $("prog-tempo").value;
  const rules = { sessions_required: Number($("prog-sessions").value), steps: [] };
  if ($("prog-step-kind").value) {
    rules.steps.push({ kind: $("prog-step-kind").value, step: Number($("prog-step").value),
      limit: Number($("prog-limit").value) });
  }
  try {
    await api(`/api/people/${personId}/programmes`, { method: "POST", body: JSON.stringify({
      name: $("prog-name").value, items: [{ exercise: $("prog-exercise").value, prescription, rules }] }) });
    showError("programme-form-error", null);
    await openPerson(personId);
  } catch (error) { showError("programme-form-error", error); }
});

(async () => {
  const exercises = await (await fetch("/api/exercises")).json();
  $("prog-exercise").replaceChildren(...exercises.map((e) => el("option", { value: e.name }, e.name)));
  await start();
})();
