// A small SVG line chart of one progress metric with its MDC95 band (no library).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_W = 320;
const CHART_H = 140;
const PAD = 24;

function svgNode(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function fmt(value) {
  // three significant digits, without the zeros toPrecision pads after a decimal point
  return value === null || value === undefined ? "–" : String(Number(Number(value).toPrecision(3)));
}

// metric: one entry of GET /api/people/{id}/progress's "metrics"
function progressChart(metric) {
  const box = document.createElement("div");
  box.className = "chart";
  box.dataset.metric = metric.key;
  const title = document.createElement("h4");
  title.textContent = metric.label + (metric.unit ? ` (${metric.unit})` : "");
  box.append(title);
  const values = metric.points.map((p) => p.value);
  const low = Math.min(...values, ...(metric.band || [])), high = Math.max(...values, ...(metric.band || []));
  const span = high - low || 1;
  const y = (v) => CHART_H - PAD - ((v - low) / span) * (CHART_H - 2 * PAD);
  const x = (i) => PAD + (values.length > 1 ? (i / (values.length - 1)) * (CHART_W - 2 * PAD) : 0);
  const svg = svgNode("svg", { viewBox: `0 0 ${CHART_W} ${CHART_H}`, role: "img",
    "aria-label": `${metric.label}: ${metric.verdict}` });
  if (metric.band) {
    svg.append(svgNode("rect", { class: "band", x: PAD, width: CHART_W - 2 * PAD,
      y: y(metric.band[1]), height: Math.max(1, y(metric.band[0]) - y(metric.band[1])) }));
  }
  svg.append(svgNode("polyline", { class: "line",
    points: values.map((v, i) => `${x(i)},${y(v)}`).join(" ") }));
  values.forEach((v, i) => svg.append(svgNode("circle", { class: "dot", cx: x(i), cy: y(v), r: 3 })));
  const top = svgNode("text", { x: 2, y: 12, "font-size": 10 });
  top.textContent = fmt(high);
  const bottom = svgNode("text", { x: 2, y: CHART_H - 4, "font-size": 10 });
  bottom.textContent = fmt(low);
  svg.append(top, bottom);
  box.append(svg);
  const verdict = document.createElement("p");
  verdict.className = `small verdict verdict-${metric.verdict.split(" ")[0]}`;
  verdict.textContent = `${metric.verdict}: ${fmt(metric.baseline)} → ${fmt(metric.latest)}` +
    (metric.mdc !== null ? ` (MDC95 ${fmt(metric.mdc)}; ${metric.basis})` : "");
  box.append(verdict);
  return box;
}
