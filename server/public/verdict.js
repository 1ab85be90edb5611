// The verdict of a set, as formcheck/report/verdict.py words it (the server sends it with the
// live summary and at GET /api/jobs/<id>/verdict): what was counted, what was found and
// compared with what, what could not be judged and what to change when filming. The live
// page and the job page show it the same way, first.
"use strict";

const FILMING_DIAGRAM_URL = "/api/filming-diagram.svg";
const DEFAULT_PLACEMENT = "square to your side, level with your hips, about 3 m away, your " +
  "whole body in the picture.";
const SEVERITY_WORDS = { safety: "Safety", warning: "Form", info: "Note" };

function verdictElement(tag, text, className) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// Fill `box` (an element) with the verdict; `headingLevel` is the level of its headline.
function renderVerdict(box, verdict, headingLevel = 2) {
  box.replaceChildren();
  box.className = `verdict ${verdict.tone}`;
  box.dataset.tone = verdict.tone;
  const headline = verdictElement(`h${headingLevel}`, verdict.headline, "verdict-headline");
  headline.tabIndex = -1;   // focus lands here when the set ends
  box.appendChild(headline);
  box.appendChild(verdictElement("p", verdict.counted, "counted"));
  if (verdict.form) box.appendChild(verdictElement("p", verdict.form));
  const sub = `h${headingLevel + 1}`;
  if (verdict.findings.length) {
    box.appendChild(verdictElement(sub, "What was found"));
    const list = verdictElement("ul", "", "found");
    list.id = "findings";
    for (const f of verdict.findings) {
      const item = verdictElement("li", "", f.severity);
      item.dataset.code = f.code;
      item.appendChild(verdictElement("span", SEVERITY_WORDS[f.severity] || f.severity, "sev"));
      item.appendChild(verdictElement("b", f.name));
      item.appendChild(document.createTextNode(` ${f.where}. ${f.explanation}`));
      item.appendChild(verdictElement("span", f.advice, "advice"));
      item.appendChild(verdictElement("span", `${f.measured}.`, "measured"));
      list.appendChild(item);
    }
    box.appendChild(list);
  }
  // what filming got in the way of comes before the checks it kept from being judged
  if (verdict.filming.length) {
    box.appendChild(filmingHelp(verdict.filming, sub, verdict.camera));
  }
  if (verdict.not_judged.length) {
    box.appendChild(verdictElement(sub, "Not judged"));
    const list = verdictElement("ul", "", "not-judged");
    for (const u of verdict.not_judged) {
      const item = verdictElement("li");
      item.dataset.code = u.code;
      item.appendChild(verdictElement("b", u.name));
      item.appendChild(document.createTextNode(
        `${u.where ? " " + u.where : ""}: not judged, because ${u.why}.`));
      if (u.advice) item.appendChild(verdictElement("span", u.advice, "advice"));
      list.appendChild(item);
    }
    box.appendChild(list);
  }
  if (verdict.judged) box.appendChild(verdictElement("p", verdict.judged, "small"));
  if (verdict.not_asked) box.appendChild(verdictElement("p", verdict.not_asked, "small"));
}

// What to change when filming (with the checks each problem kept from being judged), and the
// drawing of where to put the camera for this exercise (`camera`: the verdict's).
function filmingHelp(tips, headingTag = "h3", camera = null) {
  const wrap = verdictElement("div", "", "filming-help");
  wrap.appendChild(verdictElement(headingTag, "Filming help"));
  const row = verdictElement("div", "", "filming-row");
  const list = verdictElement("ul");
  for (const tip of tips) {
    const item = verdictElement("li");
    if (tip.problem) item.dataset.problem = tip.problem;
    if (tip.text) item.appendChild(verdictElement("b", tip.text));
    item.appendChild(document.createTextNode(` ${tip.advice}`));
    if (tip.checks && tip.checks.length) {
      const names = tip.checks.map((c) => c.toLowerCase()).join(", ");
      item.appendChild(verdictElement("span", `Not judged because of it: ${names}.`, "advice"));
    }
    list.appendChild(item);
  }
  const img = verdictElement("img", "", "filming-diagram");
  img.src = camera ? camera.diagram_url : FILMING_DIAGRAM_URL;
  img.alt = `Where to put the camera: ${camera ? camera.text : DEFAULT_PLACEMENT}`;
  img.width = 240;
  row.append(list, img);
  wrap.appendChild(row);
  return wrap;
}

// "1 rep", "2 reps".
function plural(count, singular, pluralForm) {
  return `${count} ${count === 1 ? singular : (pluralForm || `${singular}s`)}`;
}

window.formcheckVerdict = { renderVerdict, filmingHelp, plural };
