// formcheck live page: camera -> pose -> websocket -> skeleton, counts and cues.
// By default the pose model runs here, in the browser (pose_browser.js: MediaPipe in
// WebAssembly, served by this app), and only landmarks and the mask around the trunk go to the
// server: no camera picture leaves the device. `?pose=server`, or a browser that cannot run it,
// sends JPEG frames for the server to pose instead. No build step; everything comes from this
// app. Protocol: formcheck/server/messages.py (GET /api/messages).
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
// A cue is about one rep; once a later rep has ended and this long has passed with no new
// cue, that later rep was clean and the cue fades. Cues come when their rep has been
// analysed, up to about 1.5 s after its bottom on a hinge (the settling wait), so a shorter
// wait would fade a cue just before the next one arrives.
const CUE_FADE_AFTER_CLEAN_REP_MS = 2000;
const TIMINGS_MAX = 5000;          // frames and cues kept in window.formcheckTimings
const POSE_MODULE = "/static/pose_browser.js";
const PRIVACY = {
  browser: "Pose runs on this device: camera pictures never leave it. The server receives " +
    "only body landmarks and the outline of your back, frame by frame, and keeps nothing but " +
    "the set's report.",
  server: "Pose runs on the server: camera frames are sent to it (over this connection only) " +
    "and are not stored.",
};

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
  poseMode: "browser",  // where the pose model runs for this set: "browser" or "server"
  poseModule: null,     // pose_browser.js, once imported
  browserPose: null,    // its BrowserPose, once the model is loaded
  fallbackReason: "",   // why this set runs pose on the server although browser was wanted
  local: new Map(),     // seq -> { landmarks, glassMs } of frames posed here
  lastVideoFrameMs: null,
  setState: "idle",     // idle, live (setup, calibrating, counting or holding), finished
  words: {},            // fault code -> {name, explanation}, from GET /api/words
  cue: null,            // the cue on show: {rep, code}
  cueFadeTimer: null,
  lastReps: 0,
};

// Timings for bench/bench_live.py: per frame, when it was captured ("glass"), sent and
// answered; per cue, the frame it answered and when it was put on screen. Times are
// performance.now() milliseconds.
window.formcheckTimings = { frames: [], cues: [] };

function keep(list, entry) {
  list.push(entry);
  if (list.length > TIMINGS_MAX) list.shift();
}

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
    if (ex) showDiagram(ex.name, ex.camera_placement);
  };
  select.addEventListener("change", () => { showPlacement(); followExercise(select.value); });
  showPlacement();
  followExercise(select.value);
}

// The drawing of where to put the camera, for the chosen exercise (the start panel's and the
// one shown with live setup problems).
function showDiagram(name, placement) {
  for (const img of document.querySelectorAll("img.filming-diagram[data-follows-exercise]")) {
    img.src = `/api/filming-diagram.svg?exercise=${encodeURIComponent(name)}`;
    img.alt = `Where to put the camera: ${placement}`;
  }
}

// The upload panel's exercise follows the one chosen above until the person picks another
// there (upload.js fills its options from the same list).
function followExercise(name) {
  const upload = $("upload-exercise");
  if (!upload || upload.dataset.chosen === "yes") return;
  upload.dataset.follow = name;
  if ([...upload.options].some((o) => o.value === name)) upload.value = name;
}

async function loadWords() {
  try {
    state.words = await (await fetch("/api/words")).json();
  } catch (_) {
    state.words = {};
  }
}

function faultName(code) {
  const words = state.words[code];
  return words ? words.name : code.replace(/_/g, " ");
}

async function startMessage(pose) {
  const message = { type: "start", exercise: $("exercise").value, pose };
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
  watchVideoFrames(video);
}

// The capture time of the newest camera frame, when the browser tells it (else when it was
// presented): the "glass" end of the glass-to-cue latency.
function watchVideoFrames(video) {
  if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
  const onVideoFrame = (now, meta) => {
    const captured = meta.captureTime;
    state.lastVideoFrameMs = Number.isFinite(captured) && captured > 0 && captured <= now
      ? captured : (meta.presentationTime || now);
    video.requestVideoFrameCallback(onVideoFrame);
  };
  video.requestVideoFrameCallback(onVideoFrame);
}

// ---- where the pose runs ----------------------------------------------------------------------

function wantsServerPose() {
  return new URLSearchParams(location.search).get("pose") === "server";
}

// "browser" unless asked for the server, or the server or this browser cannot do it.
async function choosePoseMode() {
  if (wantsServerPose()) return "server";
  if (state.fallbackReason) return "server";
  try {
    const health = await (await fetch("/api/health")).json();
    if (!health.browser_pose) {
      state.fallbackReason = "this server has no browser pose files";
      return "server";
    }
    state.poseModule = state.poseModule || await import(POSE_MODULE);
    if (!state.poseModule.browserPoseSupported()) {
      state.fallbackReason = "this browser cannot run the pose model";
      return "server";
    }
    return "browser";
  } catch (err) {
    state.fallbackReason = `the pose model could not be loaded here (${err && err.message ? err.message : err})`;
    return "server";
  }
}

function showPoseMode(mode) {
  state.poseMode = mode;
  $("pose-mode").textContent = mode === "browser" ? "pose: on this device" : "pose: on the server";
  $("pose-mode").className = `badge ${mode === "browser" ? "ok" : ""}`;
  $("privacy").textContent = PRIVACY[mode] +
    (mode === "server" && state.fallbackReason ? ` (Pose could not run here: ${state.fallbackReason}.)` : "");
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
    const mode = await choosePoseMode();
    const ws = await openSocket();
    ws.send(JSON.stringify(await startMessage(mode)));
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

async function onStarted(msg) {
  if (msg.pose === "browser" && !state.browserPose) {
    const button = $("start");
    const label = button.textContent;
    button.disabled = true;
    button.textContent = "Loading the pose model on this device…";
    try {
      state.browserPose = await state.poseModule.BrowserPose.create(msg.browser_pose);
    } catch (err) {
      // Fall back to pose on the server for this page: start the set again that way.
      state.fallbackReason = `the pose model could not start here (${err && err.message ? err.message : err})`;
      state.ws.send(JSON.stringify(await startMessage("server")));
      return;
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }
  showPoseMode(msg.pose);
  state.edges = msg.skeleton_edges;
  state.exercise = msg.exercise;
  state.running = true;
  state.inFlight = false;
  state.rttMs = [];
  state.frameTimesMs = [];
  $("start-panel").hidden = true;
  $("summary").hidden = true;
  $("live").hidden = false;
  clearCue();
  $("cue-log").replaceChildren();
  $("reps").textContent = "0";
  $("reps-word").textContent = "reps";
  $("tempo").textContent = "–";
  state.lastReps = 0;
  setSetState("live");
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
  const glassMs = state.lastVideoFrameMs !== null && state.lastVideoFrameMs <= tMs ? state.lastVideoFrameMs : tMs;
  state.inFlight = true;
  if (state.poseMode === "browser") {
    sendPose(capture, seq, tMs, glassMs);
    return;
  }
  state.local.set(seq, { landmarks: null, glassMs, poseMs: null });
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

// Pose the frame here and send its payload: landmarks and the trunk's mask, no picture.
async function sendPose(capture, seq, tMs, glassMs) {
  let posed;
  try {
    posed = await state.browserPose.process(capture, capture.width, capture.height, tMs, seq);
  } catch (err) {
    state.inFlight = false;
    showBanner(`Pose failed on this device: ${err && err.message ? err.message : err}`);
    return;
  }
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !state.running) {
    state.inFlight = false;
    return;
  }
  state.local.set(seq, { landmarks: posed.landmarks, glassMs, poseMs: posed.inferenceMs, timing: posed.timing });
  $("pose-ms").textContent = posed.inferenceMs.toFixed(0);
  state.sentAtMs.set(seq, performance.now());
  state.ws.send(posed.payload);
}

function frameAnswered(seq) {
  const sentAt = state.sentAtMs.get(seq);
  state.sentAtMs.delete(seq);
  state.local.delete(seq);
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
  const local = state.local.get(msg.seq) || { landmarks: null, glassMs: null };
  const answeredMs = performance.now();
  draw(msg, msg.landmarks || local.landmarks);
  showStatus(msg);
  $("reps").textContent = String(msg.reps);
  $("reps-word").textContent = msg.reps === 1 ? "rep" : "reps";
  $("phase").textContent = msg.phase;
  $("server-ms").textContent = msg.server_ms.toFixed(0);
  if (msg.tempo) {
    const t = msg.tempo;
    const s = (v) => (v === null ? "–" : v.toFixed(1));
    $("tempo").textContent =
      `Rep ${t.rep} took: down ${s(t.down_s)} s · pause ${s(t.pause_s)} s · up ${s(t.up_s)} s`;
  }
  if (msg.hold) {
    const h = msg.hold;
    $("hold").hidden = false;
    $("hold").textContent = `Hold ${h.held_s.toFixed(1)} s` +
      (h.target_s ? ` of ${h.target_s.toFixed(0)} s` : "") + (h.in_position ? "" : " (out of position)");
  }
  for (const cue of msg.cues) showCue(cue);
  for (const hint of msg.hints) logLine(hint.message, "hint");
  if (msg.reps > state.lastReps) repEnded(msg.reps);
  state.lastReps = msg.reps;
  recordTimings(msg, local, answeredMs);
  frameAnswered(msg.seq);
}

// The answer's DOM changes reach the screen with the next frame the browser paints: its
// animation-frame callback is taken as "on screen".
function recordTimings(msg, local, answeredMs) {
  const sentMs = state.sentAtMs.get(msg.seq);
  const glassMs = local.glassMs;
  requestAnimationFrame(() => {
    const shownMs = performance.now();
    keep(window.formcheckTimings.frames, {
      seq: msg.seq, mode: state.poseMode, glass_ms: glassMs, sent_ms: sentMs ?? null,
      answered_ms: answeredMs, shown_ms: shownMs, server_ms: msg.server_ms,
      pose: local.timing || null,
    });
    for (const cue of msg.cues) {
      keep(window.formcheckTimings.cues, {
        code: cue.code, seq: msg.seq, mode: state.poseMode, glass_ms: glassMs, shown_ms: shownMs,
      });
    }
  });
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
  } else if (msg.hold) {
    status.textContent = "Holding: keep the position.";
    status.className = "status active";
  } else {
    status.textContent = "Go: counting your reps.";
    status.className = "status active";
  }
  status.dataset.state = msg.state;
  $("filming-live").hidden = !(msg.state === "setup" && msg.setup.length);
  showBanner("");
}

function showCue(cue) {
  const el = $("cue");
  clearTimeout(state.cueFadeTimer);
  el.replaceChildren();
  const about = document.createElement("span");
  about.className = "cue-rep";
  about.textContent = `Rep ${cue.rep} · ${faultName(cue.code)}`;
  el.append(about, document.createTextNode(cue.message));
  el.className = `cue ${cue.severity}`;
  el.dataset.code = cue.code;
  el.dataset.rep = String(cue.rep);
  state.cue = { rep: cue.rep, code: cue.code };
  logLine(`Rep ${cue.rep}: ${cue.message}`, cue.severity, cue.code);
  if (cue.spoken) speak(cue.message);
}

// A rep after the cue's has ended: if no cue about it comes, it was clean and the cue fades
// (it stays in the history beside the box).
function repEnded(reps) {
  if (!state.cue || reps <= state.cue.rep) return;
  clearTimeout(state.cueFadeTimer);
  const shown = state.cue;
  state.cueFadeTimer = setTimeout(() => {
    if (state.cue === shown) fadeCue();
  }, CUE_FADE_AFTER_CLEAN_REP_MS);
}

function fadeCue() {
  const el = $("cue");
  el.classList.add("faded");
  el.dataset.faded = "yes";
  state.cue = null;
}

function clearCue() {
  clearTimeout(state.cueFadeTimer);
  state.cue = null;
  const el = $("cue");
  el.replaceChildren();
  el.className = "cue";
  delete el.dataset.code;
  delete el.dataset.rep;
  delete el.dataset.faded;
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

function draw(msg, lms) {
  const capture = $("capture");
  const view = $("view");
  if (view.width !== capture.width || view.height !== capture.height) {
    view.width = capture.width;
    view.height = capture.height;
  }
  const ctx = view.getContext("2d");
  ctx.drawImage(capture, 0, 0);   // the very frame this answer is about
  const w = view.width, h = view.height;
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
  // The rep count, its box sized to its text (a portrait frame is narrow).
  const fontPx = Math.round(Math.min(h / 10, w / 7));
  const pad = Math.round(fontPx / 4);
  ctx.font = `bold ${fontPx}px system-ui, sans-serif`;
  const label = msg.reps === 1 ? "1 rep" : `${msg.reps} reps`;
  const boxW = Math.min(w, ctx.measureText(label).width + 2 * pad);
  ctx.fillStyle = "rgba(0, 0, 0, 0.55)";
  ctx.fillRect(0, 0, boxW, fontPx + 2 * pad);
  ctx.fillStyle = "#fff";
  ctx.textBaseline = "top";
  ctx.fillText(label, pad, pad, w - 2 * pad);
}

// ---- end of set -----------------------------------------------------------------------------

function finishSet() {
  if (state.setState === "finished") { start(); return; }   // the button reads "Start another set"
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  state.running = false;
  $("finish").disabled = true;
  $("status").textContent = "Ending the set…";
  const send = () => {
    if (state.inFlight) { setTimeout(send, 20); return; }   // let the last answer arrive
    state.ws.send(JSON.stringify({ type: "finish" }));
  };
  send();
}

function onSummary(msg) {
  state.report = msg.report;
  document.dispatchEvent(
    new CustomEvent("formcheck:set-report", { detail: { report: msg.report, signature: msg.signature } }),
  );
  const report = msg.report;
  const summary = report.summary || { reps: 0, attempts: 0 };
  if (summary.hold_s === null || summary.hold_s === undefined) {
    // the set's own count: a movement after the last rep that was putting the weight down
    // was counted live and is taken back here (the verdict says so)
    $("reps").textContent = String(summary.reps);
    $("reps-word").textContent = summary.reps === 1 ? "rep" : "reps";
  }
  formcheckVerdict.renderVerdict($("verdict"), msg.verdict, 3);
  const fmt = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(1));
  $("rep-table").tBodies[0].replaceChildren(...(report.reps || []).map((rep) => {
    const tr = document.createElement("tr");
    const faults = rep.faults.map(faultName).join(", ") || "none";
    const cells = [rep.index, fmt(rep.phases.down_s), fmt(rep.phases.pause_s),
      fmt(rep.phases.up_s), faults, rep.score === null ? "–" : Number(rep.score).toFixed(0)];
    for (const c of cells) {
      const td = document.createElement("td");
      td.textContent = String(c);
      tr.appendChild(td);
    }
    return tr;
  }));
  $("rep-details").hidden = !(report.reps || []).length;
  $("summary").hidden = false;
  setSetState("finished", summary);
  $("summary").scrollIntoView({ behavior: "smooth", block: "start" });
  const headline = $("verdict").querySelector(".verdict-headline");
  if (headline) headline.focus({ preventScroll: true });
}

// The page's set state: the status line, the badge and the End set button say it.
function setSetState(name, summary) {
  state.setState = name;
  document.body.dataset.set = name;
  const button = $("finish");
  button.disabled = false;
  if (name === "finished") {
    clearTimeout(state.cueFadeTimer);
    button.textContent = "Start another set";
    const counted = summary && summary.hold_s !== null && summary.hold_s !== undefined
      ? `held ${Number(summary.hold_s).toFixed(1)} s`
      : formcheckVerdict.plural(summary ? summary.reps : 0, "rep") + " counted";
    const status = $("status");
    status.textContent = `Set finished: ${counted}. The summary is below.`;
    status.className = "status finished";
    status.dataset.state = "finished";
    setConnection("set finished", "done");
  } else if (name === "live") {
    button.textContent = "End set";
    setConnection("live", "ok");
  }
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
loadWords();
$("mute").addEventListener("click", toggleMute);
loadExercises().catch((err) => showStartError(`Could not load the exercises: ${err}`));
showPoseMode(wantsServerPose() ? "server" : "browser");
