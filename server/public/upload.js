// The "Upload a recording" panel: send a video to POST /api/jobs with upload progress (XHR),
// then follow the job (GET /api/jobs/<id>) and link to its page. Recent uploads are kept in
// localStorage (jobs_store.js), so leaving and coming back finds them again.
"use strict";

const UPLOAD_POLL_MS = 1000;
const BYTES_PER_MB = 1e6;
const SECONDS_PER_MINUTE = 60;

const up = (id) => document.getElementById(id);
const uploadState = { limits: null, pollTimer: null };

async function loadUploadPanel() {
  let health;
  try {
    health = await (await fetch("/api/health")).json();
  } catch (_) {
    return;
  }
  if (!health.jobs) {
    up("upload-panel").hidden = true;  // this server runs the live page only
    return;
  }
  uploadState.limits = health.jobs;
  const minutes = health.jobs.max_duration_s / SECONDS_PER_MINUTE;
  up("upload-limits").textContent =
    `Up to ${Math.round(health.jobs.max_upload_bytes / BYTES_PER_MB)} MB and ` +
    `${minutes >= 2 ? `${Math.round(minutes)} minutes` : `${health.jobs.max_duration_s} s`}; ` +
    `uploads and reports are deleted after ${health.jobs.retention_days} days.`;
  const exercises = await (await fetch("/api/exercises")).json();
  const select = up("upload-exercise");
  fillExerciseOptions(select, exercises);
  // the exercise chosen for the live set, until one is picked here (app.js followExercise)
  const follow = select.dataset.follow || (document.getElementById("exercise") || {}).value;
  if (follow && [...select.options].some((o) => o.value === follow)) select.value = follow;
  select.addEventListener("change", () => { select.dataset.chosen = "yes"; });
  showRecent();
}

function uploadError(text) {
  up("upload-error").textContent = text;
  up("upload-error").hidden = !text;
}

function startUpload(event) {
  event.preventDefault();
  uploadError("");
  up("upload-done").hidden = true;
  const file = up("upload-file").files[0];
  if (!file) {
    uploadError("Choose a video file first.");
    return;
  }
  const limits = uploadState.limits;
  if (limits && file.size > limits.max_upload_bytes) {
    uploadError(`The file is larger than the ${Math.round(limits.max_upload_bytes / BYTES_PER_MB)}` +
      " MB limit; trim the clip to the set itself.");
    return;
  }
  const form = new FormData(up("upload-form"));  // file, exercise and the optional fields
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/jobs");
  xhr.responseType = "json";
  up("upload-progress").value = 0;
  up("upload-job-progress").value = 0;
  up("upload-job-stage").textContent = "";
  up("upload-progress-box").hidden = false;
  up("upload-start").disabled = true;
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    up("upload-progress").value = e.loaded / e.total;
    up("upload-percent").textContent = `${Math.round((100 * e.loaded) / e.total)}%`;
  });
  xhr.addEventListener("load", () => {
    up("upload-start").disabled = false;
    const body = xhr.response || {};
    if (xhr.status !== 201) {
      up("upload-progress-box").hidden = true;
      uploadError(body.detail || `The upload failed (HTTP ${xhr.status}).`);
      return;
    }
    up("upload-progress").value = 1;
    up("upload-percent").textContent = "100%";
    recentJobs.remember({ id: body.id, name: file.name, exercise: form.get("exercise"),
      state: body.state });
    document.dispatchEvent(new CustomEvent("formcheck:job-created", { detail: body }));
    const link = up("upload-job-link");
    link.href = body.url;
    link.dataset.jobId = body.id;
    up("upload-done").hidden = false;
    showRecent();
    followJob(body.id);
  });
  xhr.addEventListener("error", () => {
    up("upload-start").disabled = false;
    uploadError("The upload was interrupted (network or server); try again.");
  });
  xhr.send(form);
}

async function followJob(id) {
  clearTimeout(uploadState.pollTimer);
  let job;
  try {
    const response = await fetch(`/api/jobs/${id}`, { cache: "no-store" });
    if (!response.ok) return;
    job = await response.json();
  } catch (_) {
    uploadState.pollTimer = setTimeout(() => followJob(id), UPLOAD_POLL_MS * 3);
    return;
  }
  up("upload-job-progress").value = job.progress;
  const stage = job.state === "running" ? `${job.stage} ${Math.round(job.progress * 100)}%` :
    job.state;
  up("upload-job-stage").textContent = stage;
  recentJobs.remember({ id: job.id, name: job.name, exercise: job.exercise, state: job.state });
  if (job.state === "failed") uploadError(job.error || "The analysis failed.");
  if (job.state === "queued" || job.state === "running") {
    uploadState.pollTimer = setTimeout(() => followJob(id), UPLOAD_POLL_MS);
  } else {
    showRecent();
  }
}

function showRecent() {
  const jobs = recentJobs.all();
  const list = up("recent-jobs");
  list.replaceChildren();
  for (const job of jobs) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/jobs/${encodeURIComponent(job.id)}`;
    link.textContent = job.name || job.id;
    const state = document.createElement("span");
    state.className = `state ${job.state || ""}`;
    state.textContent = [(job.exercise || "").replace(/_/g, " "), job.state].filter(Boolean)
      .join(" · ");
    item.append(link, state);
    list.appendChild(item);
  }
  up("recent-box").hidden = jobs.length === 0;
}

up("upload-form").addEventListener("submit", startUpload);
loadUploadPanel();
