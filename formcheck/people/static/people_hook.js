// The live page opened from a programme (/?person=ID&item=ID): each finished live set and each
// upload is recorded as a session of that programme item, and the person rates effort and
// pain (0-10) after it. The set uses the item's prescription. See formcheck/people/routes.py.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const person = params.get("person");
  const item = params.get("item");
  if (!person || !item) return;
  let current = null;

  const api = (path, options = {}) => fetch(path, {
    credentials: "same-origin", ...options,
    headers: { "Content-Type": "application/json", ...(options.headers || {}) },
  });
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  };

  const box = el("section", { id: "programme-box", class: "card" });
  document.querySelector("header").after(box);

  function say(text, isError = false) {
    box.replaceChildren(el("p", { id: isError ? "programme-error" : "programme-line",
      class: isError ? "error" : "" }, text), el("a", { href: "/people" }, "Back to my programme"));
  }

  function choose(selectId, value) {
    const select = document.getElementById(selectId);
    if (!select) return;
    const pick = () => {
      if ([...select.options].some((o) => o.value === value)) {
        select.value = value;
        select.dispatchEvent(new Event("change"));
        return true;
      }
      return false;
    };
    if (!pick()) new MutationObserver((_, observer) => { if (pick()) observer.disconnect(); })
      .observe(select, { childList: true });
  }

  function describe(prescription) {
    const parts = [];
    if (prescription.reps) parts.push(`${prescription.reps} reps`);
    if (prescription.hold_s) parts.push(`hold ${prescription.hold_s} s`);
    if (prescription.tempo) parts.push(`tempo ${prescription.tempo}`);
    if (prescription.depth_deg) parts.push(`depth ${prescription.depth_deg}°`);
    return parts.join(", ") || "no targets set";
  }

  async function load() {
    const answer = await api(`/api/people/${encodeURIComponent(person)}`);
    if (!answer.ok) {
      say("Sign in on the people page first to record this set in your programme.", true);
      return;
    }
    const data = await answer.json();
    for (const programme of data.programmes) {
      for (const entry of programme.items) if (String(entry.id) === item) current = entry;
    }
    if (!current) { say("This programme item was not found.", true); return; }
    say(`Programme: ${current.exercise.replace(/_/g, " ")}, ${describe(current.prescription)}. ` +
        "Sets and uploads here are recorded in your programme.");
    window.formcheckProgramme = { prescription: { name: "programme.json",
      text: JSON.stringify({ exercise: current.exercise, ...current.prescription }) } };
    choose("exercise", current.exercise);
    choose("upload-exercise", current.exercise);
    const reps = document.getElementById("upload-reps");
    if (reps && current.prescription.reps) reps.value = current.prescription.reps;
    const tempo = document.getElementById("upload-tempo");
    if (tempo && current.prescription.tempo) tempo.value = current.prescription.tempo;
  }

  async function record(body) {
    const answer = await api(`/api/people/${encodeURIComponent(person)}/sessions`, {
      method: "POST", body: JSON.stringify({ item_id: Number(item), ...body }),
    });
    const out = await answer.json();
    if (!answer.ok) { say(out.detail || `The set was not recorded (HTTP ${answer.status}).`, true); return; }
    rate(out.id, body.source === "job" ? "Upload recorded" : "Set recorded");
  }

  function scale(id, label) {
    const select = el("select", { id });
    select.append(el("option", { value: "" }, "–"));
    for (let i = 0; i <= 10; i += 1) select.append(el("option", { value: String(i) }, String(i)));
    return el("label", {}, label, select);
  }

  function rate(sessionId, title) {
    const save = el("button", { id: "rate-save", type: "button" }, "Save");
    const done = el("p", { id: "rate-done", class: "hint" });
    box.replaceChildren(el("p", {}, `${title} in your programme. How was it?`),
      scale("rate-effort", "Effort (0-10) "), scale("rate-pain", "Pain (0-10) "), save, done,
      el("a", { href: "/people" }, "See my progress"));
    save.addEventListener("click", async () => {
      const effort = document.getElementById("rate-effort").value;
      const pain = document.getElementById("rate-pain").value;
      const body = {};
      if (effort !== "") body.effort = Number(effort);
      if (pain !== "") body.pain = Number(pain);
      const answer = await api(`/api/sessions/${sessionId}`, { method: "PATCH", body: JSON.stringify(body) });
      done.textContent = answer.ok ? "Saved." : "Not saved: " + ((await answer.json()).detail || answer.status);
    });
  }

  document.addEventListener("formcheck:set-report", (event) => {
    const { report, signature } = event.detail;  // the server's signature of its report
    if (current && report.set_started !== false && report.exercise === current.exercise) {
      record({ source: "live", report, signature });
    }
  });
  document.addEventListener("formcheck:job-created", (event) => {
    if (current) record({ source: "job", job_id: event.detail.id });
  });
  load();
})();
