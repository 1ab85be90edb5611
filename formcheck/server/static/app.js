// formcheck live page: camera -> JPEG frames over a websocket -> skeleton, counts and cues.
// No build step, no dependencies. Protocol: see formcheck/server/messages.py (GET /api/messages).
"use strict";

const CAPTURE_MAX_SIDE_PX = 640;   // frames are sent at most this big (the server's bench size)
// The back outline is read to sub-pixel precision from the person mask: at quality 0.8 the
// JPEG artefacts moved it by millimetres and flipped spine cues on rendered clips; 0.95
// matched lossless frames (about 30 kB a 640x480 frame, nothing on localhost).
const JPEG_QUALITY = 0.95;
const FRAME_HEADER_BYTES = 12;     // <uint32 seq><float64 t_ms>, little-endian
const RTT_WINDOW_FRAMES = 30;      // round-trip shown as the median of the last frames
const MIN_VISIBILITY = 0.5;        // landmarks less visible than this are not drawn
const CUE_LOG_MAX = 20;

const $ = (id) => document.getElementById(id);

const state = {
  ws: null,
  stream: null,
  running: false,      // sending frames
  inFlight: false,     // one frame in flight at most
  seq: 0,
  sentAtMs: new Map(),
  rttMs: [],
  frameTimesMs: [],
  edges: [],
  muted: false,
  report: null,
  exercise: null,
};

// ---- setup form ---------------------------------------------------------------------------

// One <option> per exercise analyzer (the live panel and the upload panel both use it).
function fillExerciseOptions(select, exercises) {
  for (const ex of exercises) {
    const option = document.createElement("option");
    option.value = ex.name;
    option.textContent = ex.name.replace(/_/g, " ");
    option.title = ex.description;
    select.appendChild(option);
  }
}

async function loadExercises() {
  const response = await fetch("/api/exercises");
  const exercises = await response.json();
  const select = $("exercise");
  fillExerciseOptions(select, exercises);
  const showPlacement = () => {
    const ex = exercises.find((e) => e.name === select.value);
    $("placement").textContent = ex ? `Camera: ${ex.camera_placement}` : "";
  };
  select.addEventListener("change", showPlacement);
  showPlacement();
}

async function startMessage() {
  const message = { type: "start", exercise: $("exercise").value };
  const height = parseFloat($("height").value);
  if (Number.isFinite(height)) message.height_cm = height;
  const file = $("prescription").files[0];
  if (file) message.prescription = { name: file.name, text: await file.text() };
  else if (window.formcheckProgramme) message.prescription = window.formcheckProgramme.prescription;
  return message;
}

function showStartError(text) {
  const el = $("start-error");
  el.textContent = text;
  el.hidden = !text;
}

// ---- camera and socket ----------------------------------------------------------------------

async function openCamera() {
  if (state.stream) return;
  state.stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 } },
    audio: false,
  });
  const video = $("camera");
  video.srcObject = state.stream;
  await video.play();
}

function openSocket() {
  return new Promise((resolve, reject) => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) { resolve(state.ws); return; }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/live`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { setConnection("connected", "ok"); resolve(ws); };
    ws.onerror = () => reject(new Error("The server could not be reached."));
    ws.onclose = (event) => {
      state.running = false;
      state.inFlight = false;
      state.ws = null;
      setConnection(event.code === 1013 ? "server busy" : "disconnected", "bad");
    };
    ws.onmessage = (event) => onMessage(JSON.parse(event.data));
    state.ws = ws;
  });
}

function setConnection(text, kind) {
  const el = $("connection");
  el.textContent = text;
  el.className = `badge ${kind}`;
}

async function start(event) {
  if (event) event.preventDefault();
  showStartError("");
  try {
    await openCamera();
    const ws = await openSocket();
    ws.send(JSON.stringify(await startMessage()));
  } catch (err) {
    showStartError(err && err.message ? err.message : String(err));
  }
}

function onMessage(msg) {
  if (msg.type === "started") onStarted(msg);
  else if (msg.type === "frame") onFrame(msg);
  else if (msg.type === "summary") onSummary(msg);
  else if (msg.type === "error") onError(msg);
}

function onStarted(msg) {
  state.edges = msg.skeleton_edges;
  state.exercise = msg.exercise;
  state.running = true;
  state.inFlight = false;
  state.rttMs = [];
  state.frameTimesMs = [];
  $("start-panel").hidden = true;
  $("summary").hidden = true;
  $("live").hidden = false;
  $("cue").textContent = "";
  $("cue").className = "cue";
  $("cue-log").replaceChildren();
  $("reps").textContent = "0";
  $("tempo").textContent = "–";
  sendFrame();
}

function onError(msg) {
  if (msg.seq === null || msg.seq === undefined) {
    if (!state.running) showStartError(msg.message);
    else showBanner(msg.message);
    if (msg.code === "bad_start") { $("start-panel").hidden = false; $("live").hidden = true; }
    return;
  }
  showBanner(msg.message);
  frameAnswered(msg.seq);
}

function showBanner(text) {
  const banner = $("banner");
  banner.textContent = text;
  banner.hidden = !text;
}

// ---- frames ---------------------------------------------------------------------------------

function sendFrame() {
  const ws = state.ws;
  if (!state.running || state.inFlight || !ws || ws.readyState !== WebSocket.OPEN) return;
  const video = $("camera");
  if (!video.videoWidth) { requestAnimationFrame(sendFrame); return; }
  const scale = Math.min(1, CAPTURE_MAX_SIDE_PX / Math.max(video.videoWidth, video.videoHeight));
  const capture = $("capture");
  capture.width = Math.round(video.videoWidth * scale);
  capture.height = Math.round(video.videoHeight * scale);
  capture.getContext("2d").drawImage(video, 0, 0, capture.width, capture.height);
  const seq = (state.seq = (state.seq + 1) >>> 0);
  const tMs = performance.now();
  state.inFlight = true;
  capture.toBlob(async (blob) => {
    if (!blob || !state.ws || state.ws.readyState !== WebSocket.OPEN) { state.inFlight = false; return; }
    const header = new ArrayBuffer(FRAME_HEADER_BYTES);
    const view = new DataView(header);
    view.setUint32(0, seq, true);
    view.setFloat64(4, tMs, true);
    state.sentAtMs.set(seq, performance.now());
    state.ws.send(new Blob([header, blob]));
  }, "image/jpeg", JPEG_QUALITY);
}

function frameAnswered(seq) {
  const sentAt = state.sentAtMs.get(seq);
  state.sentAtMs.delete(seq);
  const now = performance.now();
  if (sentAt !== undefined) {
    state.rttMs.push(now - sentAt);
    if (state.rttMs.length > RTT_WINDOW_FRAMES) state.rttMs.shift();
    $("rtt").textContent = median(state.rttMs).toFixed(0);
  }
  state.frameTimesMs.push(now);
  if (state.frameTimesMs.length > RTT_WINDOW_FRAMES) state.frameTimesMs.shift();
  if (state.frameTimesMs.length > 1) {
    const spanS = (now - state.frameTimesMs[0]) / 1000;
    $("fps").textContent = ((state.frameTimesMs.length - 1) / spanS).toFixed(1);
  }
  state.inFlight = false;
  // The next frame is taken now, from the camera as it is now: nothing queues up.
  requestAnimationFrame(sendFrame);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function onFrame(msg) {
  draw(msg);
  showStatus(msg);
  $("reps").textContent = String(msg.reps);
  $("phase").textContent = msg.phase;
  $("server-ms").textContent = msg.server_ms.toFixed(0);
  if (msg.tempo) {
    const t = msg.tempo;
    const s = (v) => (v === null ? "–" : v.toFixed(1));
    $("tempo").textContent =
      `Rep ${t.rep}: down ${s(t.down_s)} s · pause ${s(t.pause_s)} s · up ${s(t.up_s)} s` +
      (t.score === null ? "" : ` · score ${t.score.toFixed(0)}`);
  }
  if (msg.hold) {
    const h = msg.hold;
    $("hold").hidden = false;
    $("hold").textContent = `Hold ${h.held_s.toFixed(1)} s` +
      (h.target_s ? ` of ${h.target_s.toFixed(0)} s` : "") + (h.in_position ? "" : " (out of position)");
  }
  for (const cue of msg.cues) showCue(cue);
  for (const hint of msg.hints) logLine(hint.message, "hint");
  frameAnswered(msg.seq);
}

function showStatus(msg) {
  const status = $("status");
  const list = $("setup-problems");
  list.replaceChildren(...msg.setup.map((p) => {
    const li = document.createElement("li");
    li.textContent = p.message;
    li.dataset.code = p.code;
    return li;
  }));
  if (msg.state === "setup") {
    status.textContent = msg.setup.length ? "Setup: " + msg.setup[0].message : "Hold still…";
    status.className = "status setup";
  } else if (msg.state === "calibrating") {
    status.textContent = "Stand still for a moment: measuring your start position.";
    status.className = "status calibrating";
  } else {
    status.textContent = "Go: counting your reps.";
    status.className = "status active";
  }
  showBanner("");
}

function showCue(cue) {
  const el = $("cue");
  el.textContent = cue.message;
  el.className = `cue ${cue.severity}`;
  el.dataset.code = cue.code;
  logLine(`Rep ${cue.rep}: ${cue.message}`, cue.severity, cue.code);
  if (cue.spoken) speak(cue.message);
}

function logLine(text, kind, code) {
  const li = document.createElement("li");
  li.textContent = text;
  li.className = kind;
  if (code) li.dataset.code = code;
  const log = $("cue-log");
  log.prepend(li);
  while (log.children.length > CUE_LOG_MAX) log.lastChild.remove();
}

function speak(text) {
  if (state.muted || !("speechSynthesis" in window)) return;
  window.speechSynthesis.cancel();   // never a backlog of old cues
  window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
}

// ---- drawing --------------------------------------------------------------------------------

function draw(msg) {
  const capture = $("capture");
  const view = $("view");
  if (view.width !== capture.width || view.height !== capture.height) {
    view.width = capture.width;
    view.height = capture.height;
  }
  const ctx = view.getContext("2d");
  ctx.drawImage(capture, 0, 0);   // the very frame this answer is about
  const w = view.width, h = view.height;
  const lms = msg.landmarks;
  if (lms) {
    ctx.lineWidth = Math.max(2, w / 240);
    ctx.strokeStyle = "rgba(80, 220, 120, 0.9)";
    ctx.beginPath();
    for (const [a, b] of state.edges) {
      if (lms[a][2] < MIN_VISIBILITY || lms[b][2] < MIN_VISIBILITY) continue;
      ctx.moveTo(lms[a][0] * w, lms[a][1] * h);
      ctx.lineTo(lms[b][0] * w, lms[b][1] * h);
    }
    ctx.stroke();
    ctx.fillStyle = "rgba(255, 255, 255, 0.95)";
    for (const [x, y, v] of lms) {
      if (v < MIN_VISIBILITY) continue;
      ctx.beginPath();
      ctx.arc(x * w, y * h, Math.max(2, w / 240), 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  const outline = msg.outline;
  if (outline && outline.length > 1) {
    ctx.lineWidth = Math.max(3, w / 160);
    ctx.strokeStyle = "rgba(0, 200, 255, 0.95)";
    ctx.beginPath();
    ctx.moveTo(outline[0][0] * w, outline[0][1] * h);
    for (const [x, y] of outline.slice(1)) ctx.lineTo(x * w, y * h);
    ctx.stroke();
  }
  ctx.font = `bold ${Math.round(h / 10)}px system-ui, sans-serif`;
  ctx.fillStyle = "rgba(0, 0, 0, 0.55)";
  ctx.fillRect(0, 0, Math.round(w / 3.2), Math.round(h / 7.5));
  ctx.fillStyle = "#fff";
  ctx.fillText(`${msg.reps} reps`, Math.round(w / 60), Math.round(h / 10));
}

// ---- end of set -----------------------------------------------------------------------------

function finishSet() {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  state.running = false;
  const send = () => {
    if (state.inFlight) { setTimeout(send, 20); return; }   // let the last answer arrive
    state.ws.send(JSON.stringify({ type: "finish" }));
  };
  send();
}

function onSummary(msg) {
  state.report = msg.report;
  document.dispatchEvent(new CustomEvent("formcheck:set-report", { detail: msg.report }));
  const report = msg.report;
  const summary = report.summary || { reps: 0, attempts: 0 };
  const frays = summary.form_frays_at_rep ? `; form frays from rep ${summary.form_frays_at_rep}` : "";
  $("summary-line").textContent =
    `${report.exercise.replace(/_/g, " ")}: ${summary.reps} reps, ` +
    `${summary.attempts} partial attempts${frays}.`;
  const fmt = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(1));
  $("rep-table").tBodies[0].replaceChildren(...(report.reps || []).map((rep) => {
    const tr = document.createElement("tr");
    const cells = [rep.index, fmt(rep.score), fmt(rep.phases.down_s), fmt(rep.phases.pause_s),
      fmt(rep.phases.up_s), rep.faults.join(", ") || "–"];
    for (const c of cells) {
      const td = document.createElement("td");
      td.textContent = String(c);
      tr.appendChild(td);
    }
    return tr;
  }));
  const findings = report.findings || [];
  $("findings").replaceChildren(...(findings.length ? findings : [{ message: "No form faults found." }])
    .map((f) => {
      const li = document.createElement("li");
      li.textContent = f.message;
      if (f.code) li.dataset.code = f.code;
      return li;
    }));
  $("summary").hidden = false;
}

function saveReport() {
  if (!state.report) return;
  const blob = new Blob([JSON.stringify(state.report, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  a.href = url;
  a.download = `formcheck-${state.exercise || "set"}-${stamp}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function toggleMute() {
  state.muted = !state.muted;
  if (state.muted && "speechSynthesis" in window) window.speechSynthesis.cancel();
  $("mute").textContent = state.muted ? "Unmute voice" : "Mute voice";
  $("mute").setAttribute("aria-pressed", String(state.muted));
}

$("start-form").addEventListener("submit", start);
$("finish").addEventListener("click", finishSet);
$("save-report").addEventListener("click", saveReport);
$("again").addEventListener("click", () => start());
$("mute").addEventListener("click", toggleMute);
loadExercises().catch((err) => showStartError(`Could not load the exercises: ${err}`));
