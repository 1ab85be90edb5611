// Pose in the browser: MediaPipe's PoseLandmarker (WebAssembly) runs on this device, and each
// camera frame becomes a small binary pose payload for the server. No image bytes leave the
// device: the payload holds the capture time, 33 image landmarks, 33 world landmarks and the
// person mask inside a box around the trunk (what the server's back-outline measure reads).
//
// Mirrors formcheck/pose/estimator.py (person lock, multi-person start then one-person tracking)
// and formcheck/pose/remote.py (payload layout) and formcheck/kinematics/mask_crop.py (trunk box),
// with every setting taken from the server's StartedMessage.browser_pose: one place for them.
// Everything is loaded from this app: the tasks-vision module, its WebAssembly and the model.

const NUM_LANDMARKS = 33;
const TORSO = [11, 12, 23, 24];        // left/right shoulder, left/right hip
const HEADER_BYTES = 28;
const IMAGE_VALUES = 4;                // x / width, y / height, z / width, visibility
const WORLD_VALUES = 3;
const MASK_HEADER_BYTES = 13;
const MASK_ENCODING_DEFLATE_U8 = 1;
const MASK_LEVELS = 255;
const FLAG_POSE = 1;
const FLAG_STEADY = 2;
const FLAG_MASK = 4;
const MAX_PEOPLE_BYTE = 255;
const LUMA_SAMPLE_PX = [80, 60];       // the frame is averaged at this size for its brightness
const LUMA_WEIGHTS = [0.299, 0.587, 0.114];   // ITU-R BT.601, as the server's mean_luma
const WARM_UP_SIZE_PX = [64, 64];

/** Whether this browser can run pose itself (WebAssembly, deflate streams, module imports). */
export function browserPoseSupported() {
  return typeof WebAssembly === "object" && typeof CompressionStream === "function" &&
    typeof OffscreenCanvas === "function";
}

function candidateFrom(index, lms, world, width, height) {
  const px = new Float64Array(NUM_LANDMARKS * 3);
  const norm = new Float32Array(NUM_LANDMARKS * IMAGE_VALUES);
  const wm = new Float32Array(NUM_LANDMARKS * WORLD_VALUES);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let k = 0; k < NUM_LANDMARKS; k++) {
    const lm = lms[k];
    const w = world[k];
    // MediaPipe's z uses roughly the same scale as x (normalised by the image width).
    px[3 * k] = lm.x * width;
    px[3 * k + 1] = lm.y * height;
    px[3 * k + 2] = lm.z * width;
    norm.set([lm.x, lm.y, lm.z, lm.visibility ?? 0], IMAGE_VALUES * k);
    wm.set([w.x, w.y, w.z], WORLD_VALUES * k);
    minX = Math.min(minX, px[3 * k]); maxX = Math.max(maxX, px[3 * k]);
    minY = Math.min(minY, px[3 * k + 1]); maxY = Math.max(maxY, px[3 * k + 1]);
  }
  let cx = 0, cy = 0;
  for (const k of TORSO) { cx += px[3 * k] / TORSO.length; cy += px[3 * k + 1] / TORSO.length; }
  return { index, px, norm, world: wm, centre: [cx, cy], size: ((maxY - minY) + (maxX - minX)) / 2 };
}

/** The largest, most central person at the start; afterwards the nearest to the last one. */
class PersonLock {
  constructor(maxJumpBody) { this.maxJumpBody = maxJumpBody; this.last = null; }

  choose(candidates, width, height) {
    if (!candidates.length) return null;
    let chosen;
    if (this.last === null) {
      const diagonal = Math.hypot(width, height);
      const score = (c) => c.size * (1 - Math.hypot(c.centre[0] - width / 2, c.centre[1] - height / 2) / diagonal);
      chosen = candidates.reduce((best, c) => (score(c) > score(best) ? c : best));
    } else {
      const last = this.last;
      const dist = (c) => Math.hypot(c.centre[0] - last.centre[0], c.centre[1] - last.centre[1]);
      chosen = candidates.reduce((best, c) => (dist(c) < dist(best) ? c : best));
      if (dist(chosen) > this.maxJumpBody * Math.max(last.size, 1)) return null;
    }
    this.last = chosen;
    return chosen;
  }

  release() { this.last = null; }
}

/** The box of the frame the back measures read (formcheck/kinematics/mask_crop.py). */
export function trunkMaskBox(px, width, height, crop) {
  const p = TORSO.map((k) => [px[3 * k], px[3 * k + 1]]);
  if (!p.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) return null;
  const [ls, rs, lh, rh] = p;
  const mid = (a, b) => [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])];
  const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const chord = Math.max(dist(mid(ls, rs), mid(lh, rh)), dist(ls, lh), dist(rs, rh), crop.min_chord_px);
  const reach = crop.reach_frac * chord + crop.margin_px;
  const xs = p.map((q) => q[0]);
  const ys = p.map((q) => q[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs) - reach));
  const y0 = Math.max(0, Math.floor(Math.min(...ys) - reach));
  const x1 = Math.min(width, Math.ceil(Math.max(...xs) + reach) + 1);
  const y1 = Math.min(height, Math.ceil(Math.max(...ys) + reach) + 1);
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : null;
}

async function deflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The payload bytes (layout: formcheck/pose/remote.py). */
export function encodePayload({ seq, tMs, width, height, chosen, steady, people, luma, mask }) {
  let flags = steady ? FLAG_STEADY : 0;
  let size = HEADER_BYTES;
  if (chosen) {
    flags |= FLAG_POSE;
    size += NUM_LANDMARKS * (IMAGE_VALUES + WORLD_VALUES) * 4;
    if (mask) { flags |= FLAG_MASK; size += MASK_HEADER_BYTES + mask.data.length; }
  }
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  bytes.set([0x46, 0x43, 0x50, 0x31], 0);          // "FCP1"
  view.setUint32(4, seq >>> 0, true);
  view.setFloat64(8, tMs, true);
  view.setUint16(16, width, true);
  view.setUint16(18, height, true);
  view.setUint8(20, flags);
  view.setUint8(21, Math.min(people, MAX_PEOPLE_BYTE));
  view.setUint16(22, 0, true);
  view.setFloat32(24, luma, true);
  let offset = HEADER_BYTES;
  if (chosen) {
    for (const v of chosen.norm) { view.setFloat32(offset, v, true); offset += 4; }
    for (const v of chosen.world) { view.setFloat32(offset, v, true); offset += 4; }
    if (mask) {
      const { box, data } = mask;
      view.setUint16(offset, box.x0, true);
      view.setUint16(offset + 2, box.y0, true);
      view.setUint16(offset + 4, box.x1 - box.x0, true);
      view.setUint16(offset + 6, box.y1 - box.y0, true);
      view.setUint8(offset + 8, MASK_ENCODING_DEFLATE_U8);
      view.setUint32(offset + 9, data.length, true);
      bytes.set(data, offset + MASK_HEADER_BYTES);
    }
  }
  return buffer;
}

/** The mask inside ``box`` as uint8 levels (value x 255, rounded). */
function cropMask(mpMask, box) {
  const values = mpMask.getAsFloat32Array();
  const width = mpMask.width;
  const cropWidth = box.x1 - box.x0;
  const out = new Uint8Array(cropWidth * (box.y1 - box.y0));
  for (let y = box.y0, i = 0; y < box.y1; y++) {
    const row = y * width;
    for (let x = box.x0; x < box.x1; x++, i++) {
      const v = Math.round(values[row + x] * MASK_LEVELS);
      out[i] = v < 0 ? 0 : v > MASK_LEVELS ? MASK_LEVELS : v;
    }
  }
  return out;
}

export class BrowserPose {
  /** Loads tasks-vision, its WebAssembly and the model from this app; throws if it cannot. */
  static async create(settings) {
    const vision = await import(`${settings.tasks_vision_url}/vision_bundle.mjs`);
    const fileset = await vision.FilesetResolver.forVisionTasks(`${settings.tasks_vision_url}/wasm`);
    const pose = new BrowserPose(vision, fileset, settings);
    await pose.switchTo(settings.max_people);
    pose.warmUp();
    return pose;
  }

  constructor(vision, fileset, settings) {
    this.vision = vision;
    this.fileset = fileset;
    this.settings = settings;
    this.landmarker = null;
    this.numPoses = 0;
    this.lock = new PersonLock(settings.max_jump_body);
    this.lastTs = -1;
    this.lastSeenMs = null;
    this.aloneSinceMs = null;
    this.luma = new OffscreenCanvas(...LUMA_SAMPLE_PX).getContext("2d", { willReadFrequently: true });
  }

  /** A fresh landmarker looking for ``numPoses`` people (as the server's estimator switches). */
  async switchTo(numPoses) {
    const s = this.settings;
    const options = {
      baseOptions: { modelAssetPath: s.model_url, delegate: "CPU" },
      runningMode: "VIDEO",
      numPoses,
      minPoseDetectionConfidence: s.min_detection_confidence,
      minPosePresenceConfidence: s.min_presence_confidence,
      minTrackingConfidence: s.min_tracking_confidence,
      outputSegmentationMasks: s.segmentation,
    };
    if (this.landmarker === null) {
      this.landmarker = await this.vision.PoseLandmarker.createFromOptions(this.fileset, options);
    } else {
      await this.landmarker.setOptions(options);   // a new graph: tracking starts afresh
    }
    this.numPoses = numPoses;
    this.aloneSinceMs = null;
  }

  /** The model's first inference is slow (it compiles): do it before the first real frame. */
  warmUp() {
    const blank = new OffscreenCanvas(...WARM_UP_SIZE_PX);
    blank.getContext("2d").fillRect(0, 0, ...WARM_UP_SIZE_PX);
    const result = this.landmarker.detectForVideo(blank, ++this.lastTs);
    if (result.segmentationMasks) result.segmentationMasks.forEach((m) => m.close());
  }

  get steady() { return this.numPoses === 1 || this.settings.max_people <= 1; }

  meanLuma(image) {
    const [w, h] = LUMA_SAMPLE_PX;
    this.luma.drawImage(image, 0, 0, w, h);
    const rgba = this.luma.getImageData(0, 0, w, h).data;
    let sum = 0;
    for (let i = 0; i < rgba.length; i += 4) {
      sum += LUMA_WEIGHTS[0] * rgba[i] + LUMA_WEIGHTS[1] * rgba[i + 1] + LUMA_WEIGHTS[2] * rgba[i + 2];
    }
    return sum / (w * h);
  }

  /**
   * Pose one frame (a canvas, video, ImageBitmap or ImageData of ``width`` x ``height``)
   * captured at ``tMs``. Returns { payload (ArrayBuffer), landmarks ([x, y, visibility]
   * normalised, or null), inferenceMs }.
   */
  async process(image, width, height, tMs, seq) {
    const ts = Math.max(Math.round(tMs), this.lastTs + 1);
    this.lastTs = ts;
    const started = performance.now();
    const result = this.landmarker.detectForVideo(image, ts);
    const inferenceMs = performance.now() - started;
    const masks = result.segmentationMasks || [];
    try {
      const candidates = result.landmarks.map((lms, i) =>
        candidateFrom(i, lms, result.worldLandmarks[i], width, height));
      if (this.lastSeenMs !== null && tMs - this.lastSeenMs > this.settings.lost_after_ms) {
        this.lock.release();
      }
      const chosen = this.lock.choose(candidates, width, height);
      let mask = null;
      if (chosen) {
        this.lastSeenMs = tMs;
        const box = this.settings.segmentation && masks[chosen.index]
          ? trunkMaskBox(chosen.px, width, height, this.settings.mask_crop) : null;
        if (box) mask = { box, levels: cropMask(masks[chosen.index], box) };
      }
      await this.adapt(tMs, candidates, chosen);
      const steady = this.steady;   // after adapt, as the server's estimator reports it
      const maskedMs = performance.now();
      const luma = image instanceof ImageData ? this.meanLumaOf(image) : this.meanLuma(image);
      const lumaMs = performance.now();
      if (mask) mask.data = await deflate(mask.levels);
      const payload = encodePayload({
        seq, tMs, width, height, chosen, steady, people: candidates.length, luma, mask,
      });
      const landmarks = chosen ? Array.from({ length: NUM_LANDMARKS }, (_, k) =>
        [chosen.norm[4 * k], chosen.norm[4 * k + 1], chosen.norm[4 * k + 3]]) : null;
      const timing = {
        inferenceMs,
        maskMs: maskedMs - started - inferenceMs,
        lumaMs: lumaMs - maskedMs,
        encodeMs: performance.now() - lumaMs,
      };
      return { payload, landmarks, inferenceMs, timing };
    } finally {
      for (const m of masks) m.close();
    }
  }

  meanLumaOf(imageData) {
    const rgba = imageData.data;
    let sum = 0, n = 0;
    const stride = 4 * 4;   // every 4th pixel of each row, every 4th row: as the server
    for (let y = 0; y < imageData.height; y += 4) {
      for (let i = y * imageData.width * 4; i < (y + 1) * imageData.width * 4; i += stride, n++) {
        sum += LUMA_WEIGHTS[0] * rgba[i] + LUMA_WEIGHTS[1] * rgba[i + 1] + LUMA_WEIGHTS[2] * rgba[i + 2];
      }
    }
    return n ? sum / n : 0;
  }

  /** Multi-person detection until one person has been alone for a while, then track one. */
  async adapt(tMs, candidates, chosen) {
    const s = this.settings;
    if (s.max_people <= 1) return;
    if (this.numPoses === 1) {
      if (candidates.length && chosen === null) await this.switchTo(s.max_people);
      return;
    }
    if (candidates.length > 1 || chosen === null) { this.aloneSinceMs = null; return; }
    if (this.aloneSinceMs === null) this.aloneSinceMs = tMs;
    else if (tMs - this.aloneSinceMs >= s.single_person_confirm_ms) await this.switchTo(1);
  }

  close() {
    if (this.landmarker) this.landmarker.close();
    this.landmarker = null;
  }
}
