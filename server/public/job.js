// A job's page (/jobs/<id>): follows GET /api/jobs/<id> until the job is done or failed,
// then shows the report (report.html in a frame), the annotated video and the downloads.
"use strict";

const JOB_POLL_MS = 1000;
const JOB_POLL_RETRY_MS = 3000;   // after a network error (server restarting)
const STATE_WORDS = {
  queued: "waiting for a worker",
  running: "analysing",
  done: "done",
  failed: "failed",
};

const el = (id) => document.getElementById(id);
const jobId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");

function showJob(job) {
  document.title = `formcheck: ${job.name}`;
  el("job-name").textContent = job.name;
  const exercise = (job.exercise || "").replace(/_/g, " ");
  const attempts = job.attempts > 1 ? ` · run ${job.attempts} (the server restarted)` : "";
  el("job-what").textContent = `${exercise}${attempts}`;
  const badge = el("job-state");
  badge.textContent = STATE_WORDS[job.state] || job.state;
  badge.className = `badge ${job.state === "done" ? "ok" : job.state === "failed" ? "bad" : ""}`;
  badge.dataset.state = job.state;
  el("job-progress").value = job.progress;
  const percent = Math.round(job.progress * 100);
  el("job-stage").textContent = job.state === "running" ? `${job.stage} · ${percent}%` :
    STATE_WORDS[job.state];
  recentJobs.remember({ id: job.id, name: job.name, exercise: job.exercise, state: job.state });
  if (job.state === "done") showReport(job);
  if (job.state === "failed") showFailure(job);
}

// The verdict first: fetched as words (GET /api/jobs/<id>/verdict) and shown above the video.
async function showVerdict(job) {
  try {
    const response = await fetch(`/api/jobs/${encodeURIComponent(job.id)}/verdict`);
    if (!response.ok) return;
    formcheckVerdict.renderVerdict(el("job-verdict"), await response.json(), 2);
    el("job-verdict-card").hidden = false;
    document.body.dataset.verdict = "shown";
  } catch (_) {
    // the report below still says it all
  }
}

function showReport(job) {
  if (document.body.dataset.shown === job.id) return;
  document.body.dataset.shown = job.id;
  el("job-progress-box").hidden = true;
  showVerdict(job);
  const files = job.links.files;
  el("dl-html").href = files.report_html;
  el("dl-json").href = `${files.report_json}?download=1`;
  el("dl-csv").href = `${files.measures_csv}?download=1`;
  if (files.annotated_mp4) {
    el("dl-mp4").href = `${files.annotated_mp4}?download=1`;
    el("job-video").src = files.annotated_mp4;
    el("job-video-card").hidden = false;
  } else {
    el("dl-mp4").hidden = true;
  }
  el("job-downloads").hidden = false;
  const frame = el("job-report");
  frame.addEventListener("load", () => {
    // Same origin: size the frame to its page so the report reads as part of this one.
    const doc = frame.contentDocument;
    if (doc && doc.documentElement) {
      frame.style.height = `${doc.documentElement.scrollHeight + 20}px`;
    }
    document.body.dataset.report = "shown";
  });
  frame.src = files.report_html;
  frame.hidden = false;
}

function showFailure(job) {
  el("job-progress-box").hidden = true;
  const error = el("job-error");
  error.textContent = job.error || "The analysis failed.";
  error.hidden = false;
  el("job-again").hidden = false;
}

async function poll() {
  let response;
  try {
    response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}`, { cache: "no-store" });
  } catch (_) {
    el("job-stage").textContent = "the server is not answering; trying again…";
    setTimeout(poll, JOB_POLL_RETRY_MS);
    return;
  }
  if (response.status === 404) {
    recentJobs.forget(jobId);
    showFailure({ error: "There is no such job: it may have been deleted after its retention." });
    return;
  }
  if (!response.ok) {
    setTimeout(poll, JOB_POLL_RETRY_MS);
    return;
  }
  const job = await response.json();
  showJob(job);
  if (job.state === "queued" || job.state === "running") setTimeout(poll, JOB_POLL_MS);
}

poll();
