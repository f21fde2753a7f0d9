// Audience dashboard: a page per hash route (#/tasks, #/task/<id>, #/models, ...), drawn from the JSON API.
// Every text from the API is written with textContent, never as markup: posts can hold anything.
"use strict";

const KEY_STORE = "audience.apiKey";
const FINISHED = new Set(["SUCCESS", "FAILURE", "BREAK"]);

// ---------------------------------------------------------------- elements

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = value;
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") el.textContent = value;
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

// Chinese text is marked as such, so the browser picks Simplified Chinese glyphs and line height.
const zh = (text, tag = "span", cls = "") => h(tag, { lang: "zh-Hans", class: cls || null, text: text ?? "" });

// ---------------------------------------------------------------- formatting

const int = (n) => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));
const pct = (x) => (x === null || x === undefined ? "–" : `${(Math.round(x * 10) / 10).toFixed(1)} %`);
const ratio = (x) => (x === null || x === undefined ? "–" : x.toFixed(3));
const shortId = (id) => (id ? id.slice(0, 8) : "");

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const t = Math.max(0, Math.round(seconds));
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, "0")} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, "0")} min`;
}

function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function bytes(n) {
  if (!n) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

const badge = (status) => h("span", { class: `badge ${status}`, "data-status": status, text: status });

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// What a status means, in words, before the service's own message (which names the field or the cause).
const MEANING = {
  400: "", 404: "Not found: ", 409: "", 413: "Too large: ", 422: "Please check the input: ",
  500: "The service failed: ", 502: "The service is unreachable: ", 503: "The service cannot reach its database: ",
};

let keyPrompt = null; // one prompt at a time, however many requests asked

function askForKey(reason) {
  if (keyPrompt) return keyPrompt;
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-reason").textContent = reason;
  input.value = "";
  keyPrompt = new Promise((resolve, reject) => {
    const done = (ok) => {
      dialog.removeEventListener("close", onClose);
      document.getElementById("key-cancel").removeEventListener("click", onCancel);
      keyPrompt = null;
      if (ok) resolve(); else reject(new ApiError(401, "No API key given: this service needs one. Use the API key button at the top."));
    };
    const onClose = () => {
      const key = input.value.trim();
      if (dialog.returnValue === "save" && key) { sessionStorage.setItem(KEY_STORE, key); done(true); } else done(false);
    };
    const onCancel = () => { dialog.returnValue = "cancel"; dialog.close(); };
    dialog.addEventListener("close", onClose);
    document.getElementById("key-cancel").addEventListener("click", onCancel);
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
  return keyPrompt;
}

async function request(path, { method = "GET", body } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const headers = { Accept: "application/json" };
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers["X-API-Key"] = key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, `Cannot reach the Audience service at ${location.origin}. Is it running?`);
    }
    if ((response.status === 401 || response.status === 403) && attempt < 3) {
      if (response.status === 403 && sessionStorage.getItem(KEY_STORE) === key) sessionStorage.removeItem(KEY_STORE);
      await askForKey(response.status === 401
        ? "This service asks for an API key."
        : "That API key was not accepted. Please enter another one.");
      continue;
    }
    if (response.ok) return response;
    let message = response.statusText;
    try { message = (await response.json()).error_message || message; } catch { /* not JSON */ }
    throw new ApiError(response.status, (MEANING[response.status] ?? "") + message);
  }
}

const api = async (path, options) => (await request(path, options)).json();

async function listAll(path, field, most = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page[field]);
    cursor = page.next_cursor;
  } while (cursor && items.length < most);
  return items;
}

// A download that carries the API key: fetched, then handed to the browser as a file.
async function download(path, filename) {
  try {
    const blob = await (await request(path)).blob();
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) { showError(error); }
}

// ---------------------------------------------------------------- page frame

let page = { alive: false, stops: [], root: null };
const view = () => page.root;

function showError(error, context = "") {
  const box = document.getElementById("error");
  if (!error) { box.hidden = true; box.textContent = ""; return; }
  box.textContent = (context ? `${context}: ` : "") + (error.message || String(error));
  box.hidden = false;
}

// Run `fn` now and every `ms` while this page is shown, until it returns false; a failed round shows
// its error and tries again. `now()` runs a round at once (after the one in flight, if any).
function every(ms, fn, context) {
  const current = page;
  let timer = null, busy = false, again = false, stopped = false, failed = false;
  const round = async () => {
    clearTimeout(timer);
    if (busy) { again = true; return; }
    if (!current.alive || stopped) return;
    busy = true;
    try {
      if (!document.hidden && (await fn()) === false) stopped = true;
      if (failed && current.alive) showError(null); // only the error this poller showed
      failed = false;
    } catch (error) {
      if (current.alive) { showError(error, context); failed = true; }
      // Asking again will not change a refusal (unknown task, bad input): stop until told otherwise.
      if (error.status >= 400 && error.status < 500 && error.status !== 429) stopped = true;
    } finally { busy = false; }
    if (again) { again = false; stopped = false; round(); return; }
    if (current.alive && !stopped) timer = setTimeout(round, ms);
  };
  current.stops.push(() => clearTimeout(timer));
  round();
  return { now: () => { if (!busy) stopped = false; round(); } };
}

function section(title, ...children) { return h("section", {}, title ? h("h2", { text: title }) : null, ...children); }

function figure(name, value, id) {
  return h("div", { class: "figure" }, h("div", { class: "value", "data-figure": id || null, text: value }),
    h("div", { class: "name", text: name }));
}

function progressBar(task, big = false) {
  const percent = task.progress.percent;
  const bar = h("div", {
    class: `bar ${task.status}${percent === null ? " unknown" : ""}${big ? " big" : ""}`, role: "progressbar",
    "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": percent ?? null, "data-percent": percent ?? "",
  }, h("div", { class: "fill" }));
  if (percent !== null) bar.firstChild.style.width = `${Math.min(100, percent)}%`;
  return bar;
}

function table(head, rows, attrs = {}) {
  return h("div", { class: "scroll" }, h("table", attrs,
    h("thead", {}, h("tr", {}, head.map((c) => (c instanceof Node ? c : h("th", { class: /^(#|Rows|rows|Support|Precision|Recall|F1)/.test(c) ? "num" : null, text: c }))))),
    rows instanceof HTMLTableSectionElement ? rows : h("tbody", {}, rows)));
}

function empty(text) { return h("p", { class: "muted", text }); }

// ---------------------------------------------------------------- charts

// A label short enough for the 170 px before a bar (12 Chinese characters); the full one is in its tooltip.
const clip = (label) => (label.length > 12 ? `${label.slice(0, 11)}…` : label);

// Horizontal bars, one per label, longest first; at most `most`, the rest counted below.
function barChart(counts, most = 30) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!entries.length) return empty("No labels yet.");
  const shown = entries.slice(0, most);
  const max = Math.max(...shown.map(([, n]) => n), 1);
  const rowH = 22, labelW = 170, barW = 520, width = labelW + barW + 90;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${width} ${shown.length * rowH + 4}`, role: "img",
    "aria-label": "rows per label" });
  shown.forEach(([label, n], i) => {
    const y = i * rowH + 2;
    const w = Math.max(1, (n / max) * barW);
    svg.append(
      s("text", { x: labelW - 8, y: y + 15, "text-anchor": "end", lang: "zh-Hans", text: clip(label) }),
      s("rect", { x: labelW, y: y + 3, width: w, height: rowH - 7, rx: 3, fill: "#2563eb" }, s("title", { text: `${label}: ${int(n)}` })),
      s("text", { class: "count", x: labelW + w + 6, y: y + 15, text: int(n) }),
    );
  });
  const rest = entries.length - shown.length;
  return h("div", {}, svg, rest > 0 ? empty(`and ${rest} more labels`) : null);
}

// Stacked bars of a dataset's labels by split.
function splitChart(bySplit) {
  const splits = ["train", "dev", "test"].filter((name) => bySplit[name]);
  const colours = { train: "#2563eb", dev: "#f59e0b", test: "#10b981" };
  const totals = {};
  for (const name of splits) for (const [label, n] of Object.entries(bySplit[name])) totals[label] = (totals[label] || 0) + n;
  const labels = Object.keys(totals).sort((a, b) => totals[b] - totals[a] || a.localeCompare(b)).slice(0, 40);
  if (!labels.length) return empty("No labels.");
  const max = Math.max(...labels.map((l) => totals[l]));
  const rowH = 22, labelW = 170, barW = 520, width = labelW + barW + 90;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${width} ${labels.length * rowH + 4}`, role: "img",
    "aria-label": "rows per label and split" });
  labels.forEach((label, i) => {
    const y = i * rowH + 2;
    let x = labelW;
    svg.append(s("text", { x: labelW - 8, y: y + 15, "text-anchor": "end", lang: "zh-Hans", text: clip(label) }, s("title", { text: label })));
    for (const name of splits) {
      const n = bySplit[name][label] || 0;
      const w = (n / max) * barW;
      if (w > 0) svg.append(s("rect", { x, y: y + 3, width: w, height: rowH - 7, fill: colours[name] }, s("title", { text: `${label} · ${name}: ${int(n)}` })));
      x += w;
    }
    svg.append(s("text", { class: "count", x: x + 6, y: y + 15, text: int(totals[label]) }));
  });
  const legend = h("div", { class: "legend" }, splits.map((name) => h("span", {}, h("i", { class: `swatch-${name}` }), name)));
  return h("div", {}, legend, svg);
}

// Gold label (rows) against predicted label (columns), shaded by each row's share: the diagonal is recall.
// The gold × predicted matrix has a "(no label)" row and column past its labels; a single-label model's
// confusion matrix names its own columns (with "(no label)" only when min_score left texts unlabeled).
function heatmap(matrix, withNone = true) {
  const names = withNone ? [...matrix.labels, "(no label)"] : matrix.labels;
  const counts = matrix.counts;
  const head = h("tr", {}, h("th", { class: "gold", text: "gold ↓ · predicted →" }), names.map((n) => h("th", { lang: "zh-Hans", text: n })));
  const rows = counts.map((row, g) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return h("tr", {}, h("th", { class: "gold", lang: "zh-Hans", text: names[g] }), row.map((n, p) => {
      const share = n / total;
      const cell = h("td", { title: `gold ${names[g]}, predicted ${names[p]}: ${int(n)} (${pct(share * 100)} of the row)`, text: int(n) });
      cell.style.backgroundColor = g === p ? `rgba(21, 128, 61, ${0.08 + share * 0.85})` : `rgba(185, 28, 28, ${n ? 0.06 + share * 0.85 : 0})`;
      if (share > 0.55) cell.style.color = "#fff";
      return cell;
    }));
  });
  return h("div", { class: "scroll" }, h("table", { class: "heatmap" }, h("thead", {}, head), h("tbody", {}, rows)));
}

// Older evaluations hold only the per-label counts: a label × (tp, fp, fn, tn) heatmap.
function confusionTable(confusion) {
  const labels = Object.keys(confusion);
  if (!labels.length) return empty("No confusion counts.");
  const cols = ["tp", "fp", "fn", "tn"];
  const rows = labels.map((label) => {
    const c = confusion[label];
    const total = cols.reduce((a, k) => a + c[k], 0) || 1;
    return h("tr", {}, h("th", { lang: "zh-Hans", text: label }), cols.map((k) => {
      const cell = h("td", { class: "num", text: int(c[k]) });
      const good = k === "tp" || k === "tn";
      cell.style.backgroundColor = `rgba(${good ? "21, 128, 61" : "185, 28, 28"}, ${0.05 + (c[k] / total) * 0.8})`;
      return cell;
    }));
  });
  return h("div", { class: "scroll" }, h("table", { class: "heatmap" },
    h("thead", {}, h("tr", {}, h("th", {}), cols.map((k) => h("th", { text: k })))), h("tbody", {}, rows)));
}

function reportTable(report) {
  const names = Object.keys(report || {});
  if (!names.length) return empty("No report: the split was empty.");
  const averages = names.filter((n) => n.endsWith(" avg") || n === "accuracy");
  const labels = names.filter((n) => !averages.includes(n));
  const row = (name, avg) => {
    const r = report[name];
    return h("tr", { class: avg ? "average" : null }, h("td", avg ? { text: name } : { lang: "zh-Hans", text: name }),
      h("td", { class: "num", text: ratio(r.precision) }), h("td", { class: "num", text: ratio(r.recall) }),
      h("td", { class: "num", text: ratio(r["f1-score"]) }), h("td", { class: "num", text: int(r.support) }));
  };
  return table(["Label", "Precision", "Recall", "F1", "Support"], [...labels.map((n) => row(n, false)), ...averages.map((n) => row(n, true))], { class: "report" });
}

// Accuracy beside the report: plain accuracy for a single-label model, subset accuracy (the share of texts
// whose label set is exactly right) and Hamming loss for a multi-label one.
function accuracyFigures(evaluation) {
  if (evaluation.accuracy === undefined) return null;
  const shown = [figure(evaluation.subset_accuracy === undefined ? "Accuracy" : "Subset accuracy", ratio(evaluation.accuracy), "accuracy")];
  if (evaluation.hamming_loss !== undefined) shown.push(figure("Hamming loss", ratio(evaluation.hamming_loss), "hamming"));
  return h("div", { class: "cards" }, shown);
}

function evaluationBlock(evaluation) {
  if (!evaluation) return empty("No evaluation.");
  const confusion = evaluation.confusion_matrix && evaluation.rows ? heatmap(evaluation.confusion_matrix, false)
    : evaluation.matrix && evaluation.rows ? heatmap(evaluation.matrix) : confusionTable(evaluation.confusion || {});
  return h("div", {}, h("p", { class: "muted", text: `${int(evaluation.rows)} texts` }), accuracyFigures(evaluation),
    reportTable(evaluation.report), h("h3", { text: evaluation.confusion_matrix ? "Confusion matrix" : "Confusion" }), confusion);
}

// How a model decides: one label per text or any number, and each label's threshold and how it was chosen.
function decisionList(m) {
  const d = m.decision;
  const mode = m.multi_label ? "any number (multi-label)" : "one, the best-scoring (single-label)";
  if (!d) return [["Labels per text", mode], ["Thresholds", "not recorded for models stored before this was kept"]];
  const thresholds = d.thresholds ? table(["Label", "Threshold"], Object.entries(d.thresholds).map(([label, t]) =>
    h("tr", {}, h("td", { lang: "zh-Hans", text: label }), h("td", { class: "num", text: ratio(t) }))), { class: "thresholds" }) : null;
  return [["Labels per text", mode], ["Score", d.score || null], ["Decision", d.threshold_method || null],
    ["Minimum score", d.min_score === null || d.min_score === undefined ? null : String(d.min_score)], ["Thresholds", thresholds]];
}

function labelChips(labels) {
  if (!labels || !labels.length) return h("span", { class: "muted", text: "no label" });
  return labels.map((l) => h("span", { class: "chip", lang: "zh-Hans" }, typeof l === "string" ? l : [l.label, h("span", { class: "score", text: l.score.toFixed(2) })]));
}

// ---------------------------------------------------------------- tasks

async function tasksPage() {
  const root = view(); // this page's own: a late answer never draws into the next page
  const labeling = h("tbody", {});
  const modeling = h("tbody", {});
  const filter = h("select", { id: "status-filter" }, h("option", { value: "", text: "every status" }),
    ["PENDING", "STARTED", "SUCCESS", "BREAK", "FAILURE"].map((v) => h("option", { value: v, text: v })));
  const more = h("p", { class: "muted" });
  append(root, [
    h("h1", {}, "Tasks", h("a", { class: "button primary", href: "#/new-task", id: "new-task", text: "New labeling task" })),
    section("Labeling tasks", h("div", { class: "row" }, h("label", {}, "Show", filter)),
      table(["Task", "Status", "Progress", "", "Rows", "Rows/s", "ETA", "Created"], labeling, { id: "labeling-tasks" }), more),
    section("Modeling tasks", table(["Task", "Type", "Model", "Status", "Progress", "Created", "Took"], modeling, { id: "modeling-tasks" })),
  ]);
  const refresh = every(2000, async () => {
    const status = filter.value ? `&status=${filter.value}` : "";
    const [predicting, training, evaluation] = await Promise.all([
      api(`/predicting/tasks?limit=50${status}`), api("/modeling/tasks?type=training&limit=25"), api("/modeling/tasks?type=evaluation&limit=25"),
    ]);
    more.textContent = predicting.next_cursor ? "Only the newest 50 are shown: choose a status to find older ones." : "";
    syncRows(labeling, predicting.tasks.map((t) => h("tr", { "data-task": t.task_id },
      h("td", {}, h("a", { href: `#/task/${t.task_id}`, class: "mono", text: shortId(t.task_id) })),
      h("td", {}, badge(t.status)),
      h("td", {}, progressBar(t)),
      h("td", { class: "num", text: pct(t.progress.percent) }),
      h("td", { class: "num", text: `${int(t.progress.done)} / ${int(t.progress.total)}` }),
      h("td", { class: "num", text: t.progress.rows_per_s === null ? "–" : int(t.progress.rows_per_s) }),
      h("td", { class: "num", text: FINISHED.has(t.status) ? "–" : duration(t.progress.eta_s) }),
      h("td", { text: when(t.created_at) }))), "No labeling task yet.");
    const both = [...training.tasks, ...evaluation.tasks].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    syncRows(modeling, both.map((t) => h("tr", { "data-task": t.task_id },
      h("td", {}, h("a", { href: `#/modeling-task/${t.task_id}`, class: "mono", text: shortId(t.task_id) })),
      h("td", { text: t.type }),
      h("td", { lang: "zh-Hans", text: t.config.model_name || (t.config.model && `${t.config.model.name} v${t.config.model.version}`) || "" }),
      h("td", {}, badge(t.status)),
      h("td", {}, progressBar({ status: t.status, progress: { percent: t.status === "SUCCESS" ? 100 : FINISHED.has(t.status) ? 0 : null } })),
      h("td", { text: when(t.created_at) }),
      h("td", { text: t.finished_at && t.started_at ? duration((new Date(t.finished_at) - new Date(t.started_at)) / 1000) : "–" }))), "No modeling task yet.");
  }, "Could not load the tasks");
  filter.addEventListener("change", () => refresh.now());
}

// Puts `rows` (each with data-task) into `tbody`, touching only the cells that changed: a link being
// clicked or text being selected is not swept away by the refresh.
function syncRows(tbody, rows, emptyText) {
  if (!rows.length) {
    tbody.replaceChildren(h("tr", {}, h("td", { colspan: 9, class: "muted", text: emptyText })));
    return;
  }
  const current = [...tbody.children];
  if (current.length !== rows.length || current.some((tr, i) => tr.dataset.task !== rows[i].dataset.task)) {
    tbody.replaceChildren(...rows);
    return;
  }
  rows.forEach((fresh, i) => {
    [...fresh.children].forEach((cell, j) => {
      const old = current[i].children[j];
      if (old.outerHTML === cell.outerHTML) return;
      const oldBar = old.querySelector(".bar"), newBar = cell.querySelector(".bar");
      if (oldBar && newBar && oldBar.className === newBar.className) { // the bar slides to its new width
        oldBar.firstChild.style.width = newBar.firstChild.style.width;
        for (const name of ["aria-valuenow", "data-percent"]) oldBar.setAttribute(name, newBar.getAttribute(name) ?? "");
      } else old.replaceWith(cell);
    });
  });
}

function localInput(date) {
  const p = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T00:00`;
}

async function newTaskPage() {
  const root = view(); // this page's own: a late answer never draws into the next page
  const [models, patterns] = await Promise.all([listAll("/modeling/models", "models"), listAll("/preprocessing/patterns", "pattern_sets")]);
  const names = [...new Set(models.map((m) => m.name))].sort();
  const now = new Date();
  const field = (label, input) => h("label", {}, label, input);
  const form = h("form", { id: "task-form" },
    h("h3", { text: "Models" }),
    names.length ? h("div", { class: "checks" }, names.map((name) => h("label", {}, h("input", { type: "checkbox", name: "model", value: name }), zh(name))))
      : empty("No model stored yet: train one first (Models)."),
    h("h3", { text: "Source" }),
    h("div", { class: "form-grid" },
      field("Tables (comma separated)", h("input", { name: "tables", value: "posts", required: true })),
      field("Id column", h("input", { name: "id_column", value: "id", required: true })),
      field("Text columns (comma separated)", h("input", { name: "text_columns", value: "title, content", required: true })),
      field("Time column", h("input", { name: "time_column", value: "post_time", required: true })),
      field("From (inclusive, source time)", h("input", { name: "start_time", type: "datetime-local", step: 1, value: localInput(new Date(now.getFullYear(), 0, 1)), required: true })),
      field("To (exclusive)", h("input", { name: "end_time", type: "datetime-local", step: 1, value: localInput(new Date(now.getFullYear() + 1, 0, 1)), required: true })),
      field("Batch size (empty: the service's)", h("input", { name: "batch_size", type: "number", min: 1, max: 100000 })),
      field("Leave out texts matching", h("select", { name: "pattern_set" }, h("option", { value: "", text: "(no pattern set)" }),
        patterns.map((p) => h("option", { value: p.name, text: `${p.name} (${p.pattern_count} patterns)` }))))),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit", id: "start-task", text: "Start labeling" })),
    h("p", { class: "form-error", id: "form-error", role: "alert" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const list = (name) => String(data.get(name)).split(",").map((v) => v.trim()).filter(Boolean);
    const body = {
      model_names: data.getAll("model"),
      source: { tables: list("tables"), id_column: data.get("id_column"), text_columns: list("text_columns"), time_column: data.get("time_column") },
      start_time: data.get("start_time"),
      end_time: data.get("end_time"),
    };
    if (data.get("batch_size")) body.batch_size = Number(data.get("batch_size"));
    if (data.get("pattern_set")) body.pattern_set = data.get("pattern_set");
    const error = document.getElementById("form-error");
    if (!body.model_names.length) { error.textContent = "Choose at least one model."; return; }
    error.textContent = "";
    const button = document.getElementById("start-task");
    button.disabled = true;
    try {
      const created = await api("/predicting/tasks", { method: "POST", body });
      location.hash = `#/task/${created.task_id}`;
    } catch (failure) {
      error.textContent = failure.message;
      button.disabled = false;
    }
  });
  append(root, [h("h1", { text: "New labeling task" }), section(null, form)]);
}

function configList(pairs) {
  return h("dl", { class: "config" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
}

async function taskPage(taskId) {
  const root = view(); // this page's own: a late answer never draws into the next page
  const title = h("h1", {}, "Labeling task ", h("code", { text: taskId }));
  const status = h("span", {});
  const abort = h("button", { class: "danger", id: "abort", hidden: true, text: "Abort…" });
  const note = h("div", {});
  const bar = h("div", {});
  const line = h("p", { class: "progress-line" });
  const figures = h("div", { class: "cards" });
  const config = h("div", {});
  const charts = h("div", {});
  const sample = h("tbody", {});
  const logBox = h("pre", { class: "log", text: "" });
  const auto = h("input", { type: "checkbox", checked: true });
  append(title, [status, abort]);
  append(root, [title, note, section(null, bar, line, figures), section("Labels per model", charts),
    section("Random sample",
      h("div", { class: "row" }, h("button", { id: "resample", text: "Another sample", onclick: () => loadSample().catch((error) => showError(error, "Could not load a sample")) }),
        h("label", { class: "checks" }, h("span", {}, auto, " refresh every 5 s"))),
      table(["Text", "Labels"], sample, { id: "sample" })),
    section("Configuration", config),
    section("Export", exportsBlock(taskId)),
    section("Log", logBox)]);

  let last = null;
  abort.addEventListener("click", async () => {
    const ok = await confirmDialog("Abort this task?",
      "Workers stop after the batch they are writing. Labels written so far stay in the output schema; the task ends as BREAK and cannot be resumed.");
    if (!ok) return;
    abort.disabled = true;
    try {
      await api(`/predicting/tasks/${taskId}/abort`, { method: "POST" });
      note.replaceChildren(h("p", { class: "notice", text: "Abort requested: the task stops after its current batches." }));
    } catch (error) { showError(error, "Could not abort"); abort.disabled = false; }
  });

  const render = (t) => {
    status.replaceChildren(badge(t.status));
    abort.hidden = FINISHED.has(t.status) || t.abort_requested;
    bar.replaceChildren(progressBar(t, true));
    const p = t.progress;
    line.textContent = p.total === null ? (FINISHED.has(t.status) ? `Ended ${t.status} before its rows were counted.` : "Planning: counting the rows in range…")
      : `${pct(p.percent)} · ${int(p.done)} of ${int(p.total)} rows${FINISHED.has(t.status) ? "" : ` · ${p.rows_per_s === null ? "–" : int(p.rows_per_s)} rows/s · ${p.eta_s === null ? "time left unknown" : `about ${duration(p.eta_s)} left`}`}`;
    const took = t.finished_at && t.started_at ? duration((new Date(t.finished_at) - new Date(t.started_at)) / 1000) : null;
    const chunks = Object.entries(t.chunks).map(([k, n]) => `${n} ${k.toLowerCase()}`).join(", ") || "–";
    figures.replaceChildren(
      figure("Rows in range", int(p.total), "total"), figure("Rows read", int(p.done), "done"),
      figure("Rows labeled", int(p.labeled), "labeled"), figure("Left out by patterns", int(p.excluded), "excluded"),
      figure("Rows/s", p.rows_per_s === null ? "–" : int(p.rows_per_s), "rate"),
      figure(FINISHED.has(t.status) ? "Took" : "Time left", FINISHED.has(t.status) ? (took || "–") : duration(p.eta_s), "eta"),
      figure("Chunks", chunks, "chunks"), figure("Peak worker memory", bytes(t.peak_rss_bytes), "rss"),
      figure("Created", when(t.created_at)), figure("Finished", when(t.finished_at)));
    if (t.error) note.replaceChildren(h("p", { class: "error", text: `Error: ${t.error}` }));
    else if (t.status === "BREAK") note.replaceChildren(h("p", { class: "notice", text: `Stopped by an abort after ${int(p.done)} rows; the labels written until then stay in the output schema.` }));
    const c = t.config;
    config.replaceChildren(configList([
      ["Models", c.models.map((m) => h("a", { href: `#/model/${encodeURIComponent(m.name)}/${m.version}`, class: "chip", lang: "zh-Hans", text: `${m.name} v${m.version}` }))],
      ["Tables", c.source.tables.join(", ")], ["Id column", c.source.id_column], ["Text columns", c.source.text_columns.join(", ")],
      ["Time column", c.source.time_column], ["Range", `${c.start_time.replace("T", " ")} → ${c.end_time.replace("T", " ")} (source time)`],
      ["Batch size", int(c.batch_size)],
      ["Pattern set", c.pattern_set ? h("a", { href: `#/pattern/${c.pattern_set.id}`, text: `${c.pattern_set.name} (${c.pattern_set.patterns.length} patterns, as when the task started)` }) : "none"],
    ]));
    const models = c.models.map((m) => m.name);
    charts.replaceChildren(...models.map((m) => h("div", { "data-model": m }, h("h3", {}, zh(m), ` · ${int(Object.values(t.label_counts[m] || {}).reduce((a, b) => a + b, 0))} labels`), barChart(t.label_counts[m] || {}))));
  };

  let sampled = false; // a sample with rows has been shown
  const loadSample = async () => {
    let body;
    try {
      body = await api(`/predicting/tasks/${taskId}/sample?size=10`);
    } catch (error) {
      if (error.status !== 404) throw error;
      body = { rows: [] }; // nothing labeled yet, or the task ended without labels
    }
    sampled = body.rows.length > 0;
    sample.replaceChildren(...body.rows.map((r) => h("tr", {},
      h("td", { class: "text" }, zh(r.text ?? "(text no longer in the source)"), h("div", { class: "muted mono", text: `${r.source_table} #${r.source_id}` })),
      h("td", {}, Object.entries(r.labels).map(([model, labels]) => h("div", {}, h("span", { class: "muted", lang: "zh-Hans", text: `${model}: ` }), labelChips(labels)))))));
    if (!body.rows.length) sample.replaceChildren(h("tr", {}, h("td", { colspan: 2, class: "muted", text: last && FINISHED.has(last.status) ? "The task wrote no labels." : "No labeled row yet." })));
  };

  every(1500, async () => {
    const t = await api(`/predicting/tasks/${taskId}`);
    render(t);
    const finished = FINISHED.has(t.status);
    const justFinished = finished && last && !FINISHED.has(last.status);
    last = t;
    // The first labels, and the last ones, are shown without waiting for the next refresh.
    if ((t.progress.labeled > 0 && !sampled) || justFinished) loadSample().catch((error) => showError(error, "Could not load a sample"));
    return !finished; // a finished task's page stops asking
  }, "Could not load the task");
  every(5000, async () => {
    if (auto.checked || !sampled) await loadSample();
  }, "Could not load a sample");
  let after = 0;
  every(3000, async () => {
    const response = await request(`/predicting/tasks/${taskId}/log?after=${after}`);
    const text = await response.text();
    const next = Number(response.headers.get("X-Next-After") || after);
    if (text) {
      const following = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 24;
      logBox.textContent += text;
      if (following) logBox.scrollTop = logBox.scrollHeight; // a reader scrolled up stays where they are
    }
    after = next;
    return !(last && FINISHED.has(last.status) && !text);
  }, "Could not load the log");
}

function exportsBlock(taskId) {
  const sampling = h("select", { name: "sampling" }, ["uniform", "per_label", "least_confident", "disagreement"].map((v) => h("option", { value: v, text: v.replace("_", " ") })));
  const size = h("input", { type: "number", min: 1, max: 10000, value: 100 });
  return h("div", {},
    h("div", { class: "row" },
      h("button", { text: "Labels as CSV", onclick: () => download(`/predicting/tasks/${taskId}/labels?format=csv`, `labels-${taskId}.csv`) }),
      h("button", { text: "Labels as JSONL", onclick: () => download(`/predicting/tasks/${taskId}/labels?format=jsonl`, `labels-${taskId}.jsonl`) })),
    h("div", { class: "row" }, h("label", {}, "Review sample", sampling), h("label", {}, "Rows", size),
      h("button", { text: "For review in doccano (JSONL)", onclick: () => download(`/predicting/tasks/${taskId}/review?sampling=${sampling.value}&size=${Number(size.value) || 100}`, `review-${taskId}.jsonl`) })),
    h("p", { class: "muted", text: "The review file holds texts with the predicted labels as machine pre-annotations; upload it to doccano, and the reviewed export back as a dataset." }));
}

function confirmDialog(title, text) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}

async function modelingTaskPage(taskId) {
  const root = view(); // this page's own: a late answer never draws into the next page
  const holder = h("div", {});
  const logBox = h("pre", { class: "log" });
  append(root, [holder, section("Log", logBox)]);
  let shown = null;
  let after = 0;
  every(2000, async () => {
    const t = await api(`/modeling/tasks/${taskId}`);
    if (t.status !== shown) { // drawn again only when the status changes: the page holds still to be read
      shown = t.status;
      const result = t.result || {};
      const model = result.model || t.config.model;
      holder.replaceChildren(
        h("h1", {}, `${t.type === "evaluation" ? "Evaluation" : "Training"} task `, h("code", { text: taskId }), badge(t.status)),
        t.error ? h("p", { class: "error", text: `Error: ${t.error}` }) : null,
        section("Configuration", configList([
          ["Model", model ? h("a", { href: `#/model/${encodeURIComponent(model.name)}/${model.version}`, lang: "zh-Hans", text: `${model.name} v${model.version}` }) : zh(t.config.model_name || "")],
          ["Type", t.config.model_type], ["Dataset", t.config.dataset_id ? h("a", { href: `#/dataset/${t.config.dataset_id}`, text: t.config.dataset_name || `#${t.config.dataset_id}` }) : null],
          ["Split", t.type === "evaluation" ? t.config.split || "all rows" : null],
          ["Parameters", t.config.params ? h("code", { text: JSON.stringify(t.config.params) }) : null],
          ["Created", when(t.created_at)], ["Started", when(t.started_at)], ["Finished", when(t.finished_at)]])),
        result.evaluation ? section("Evaluation", evaluationBlock(result.evaluation)) : null,
        result.metrics ? section("Test split", evaluationBlock(result.metrics.test)) : null);
    }
    const log = await request(`/modeling/tasks/${taskId}/log?after=${after}`);
    logBox.textContent += await log.text();
    after = Number(log.headers.get("X-Next-After") || after);
    return !FINISHED.has(t.status);
  }, "Could not load the task");
}

// ---------------------------------------------------------------- models

async function modelsPage() {
  const root = view(); // this page's own: a late answer never draws into the next page
  const models = await listAll("/modeling/models", "models");
  const option = (m) => h("option", { value: `${m.name}@${m.version}`, text: `${m.name} v${m.version} (${m.kind})` });
  const a = h("select", { id: "compare-a" }, models.map(option));
  const b = h("select", { id: "compare-b" }, models.map(option));
  if (models.length > 1) b.selectedIndex = 1;
  append(root, [h("h1", { text: "Models" }),
    section("Compare two models on the same test set", models.length < 2 ? empty("Two models are needed.") :
      h("div", { class: "row" }, h("label", {}, "Model A", a), h("label", {}, "Model B", b),
        h("button", { class: "primary", id: "compare", text: "Compare", onclick: () => { location.hash = `#/compare?a=${encodeURIComponent(a.value)}&b=${encodeURIComponent(b.value)}`; } }))),
    section("Registry", models.length ? table(["Name", "Version", "Kind", "Labels", "Dataset", "Created"], models.map((m) => h("tr", {},
      h("td", {}, h("a", { href: `#/model/${encodeURIComponent(m.name)}/${m.version}`, lang: "zh-Hans", text: m.name })),
      h("td", { class: "num", text: m.version }), h("td", { text: m.kind }),
      h("td", { lang: "zh-Hans", text: `${m.labels.length}: ${m.labels.slice(0, 6).join(", ")}${m.labels.length > 6 ? ", …" : ""}` }),
      h("td", {}, m.dataset_id ? h("a", { href: `#/dataset/${m.dataset_id}`, text: `#${m.dataset_id}` }) : "–"),
      h("td", { text: when(m.created_at) }))), { id: "models" }) : empty("No model stored yet."))]);
}

const modelPath = (name, version) => `/modeling/models/${encodeURIComponent(name)}?version=${version}`;

async function modelPage(name, version) {
  const root = view(); // this page's own: a late answer never draws into the next page
  const m = await api(modelPath(name, version));
  const metrics = m.metrics || {};
  const splitPick = h("select", {}, ["test", "dev"].map((v) => h("option", { value: v, text: v })));
  const report = h("div", {});
  const show = () => report.replaceChildren(evaluationBlock(metrics[splitPick.value]));
  splitPick.addEventListener("change", show);
  show();
  const datasets = await listAll("/documenting/datasets", "datasets");
  const dataset = h("select", {}, datasets.map((d) => h("option", { value: d.dataset_id, text: `${d.name} (#${d.dataset_id}, ${int(d.rows)} rows)` })));
  const split = h("select", {}, [["test", "test"], ["dev", "dev"], ["train", "train"], ["", "all rows"]].map(([v, t]) => h("option", { value: v, text: t })));
  const error = h("p", { class: "form-error", role: "alert" });
  append(root, [
    h("h1", {}, zh(m.name), h("span", { class: "muted", text: `version ${m.version} · ${m.kind}` })),
    section("Model", configList([
      ["Labels", labelChips(m.labels)], ["Parameters", h("code", { text: JSON.stringify(m.params) })],
      ["Dataset", m.dataset_id ? h("a", { href: `#/dataset/${m.dataset_id}`, text: `#${m.dataset_id}` }) : "–"],
      ["Rule set", m.rule_set_id ? h("a", { href: `#/rule-set/${m.rule_set_id}`, text: `#${m.rule_set_id}` }) : null],
      ["Pattern set", m.pattern_set ? `${m.pattern_set.name} (${m.pattern_set.patterns.length} patterns)` : null],
      ...decisionList(m),
      ["Trained by", m.task_id ? h("a", { href: `#/modeling-task/${m.task_id}`, class: "mono", text: shortId(m.task_id) }) : "registered by hand"],
      ["Training rows", metrics.train_rows !== undefined ? int(metrics.train_rows) : null],
      ["Training time", metrics.train_seconds !== undefined ? `${metrics.train_seconds} s` : null],
      ["Libraries", Object.entries(m.library_versions).map(([k, v]) => `${k} ${v}`).join(", ") || null],
      ["SHA-256", h("code", { text: m.sha256 })], ["Created", when(m.created_at)]])),
    section("Evaluation", m.metrics ? h("div", {}, h("div", { class: "row" }, h("label", {}, "Split", splitPick),
      h("button", { text: "Validation details (CSV)", onclick: () => download(`/modeling/models/${encodeURIComponent(m.name)}/details?version=${m.version}`, `${m.name}-v${m.version}-details.csv`) })), report)
      : empty(m.task_id ? "Built from its rules alone: evaluate it on a dataset below for a report." : "This model was registered without an evaluation.")),
    section("Evaluate on a dataset", datasets.length ? h("div", { class: "row" }, h("label", {}, "Dataset", dataset), h("label", {}, "Split", split),
      h("button", { class: "primary", text: "Evaluate", onclick: async () => {
        try {
          const body = { dataset_id: Number(dataset.value), version: m.version };
          if (split.value) body.split = split.value;
          const task = await api(`/modeling/models/${encodeURIComponent(m.name)}/evaluate`, { method: "POST", body });
          location.hash = `#/modeling-task/${task.task_id}`;
        } catch (failure) { error.textContent = failure.message; }
      } })) : empty("No dataset uploaded."), error),
  ]);
}

async function comparePage(query) {
  const root = view(); // this page's own: a late answer never draws into the next page
  const parse = (v) => { const at = (v || "").lastIndexOf("@"); return [v.slice(0, at), Number(v.slice(at + 1))]; };
  const [a, b] = [parse(query.get("a")), parse(query.get("b"))];
  if (!a[0] || !a[1] || !b[0] || !b[1]) throw new ApiError(400, "Choose the two models to compare on the Models page.");
  const [ma, mb] = await Promise.all([api(modelPath(...a)), api(modelPath(...b))]);
  const results = h("div", {});
  // The same test rows: the same dataset content, and the same texts left out by the same pattern set.
  const patterns = (m) => JSON.stringify(m.pattern_set ? m.pattern_set.patterns : null);
  const sameTest = Boolean(ma.dataset_sha256 && ma.dataset_sha256 === mb.dataset_sha256 && ma.metrics && mb.metrics
    && patterns(ma) === patterns(mb) && ma.metrics.test.rows === mb.metrics.test.rows);
  const datasets = await listAll("/documenting/datasets", "datasets");
  const dataset = h("select", {}, datasets.map((d) => h("option", { value: d.dataset_id, text: `${d.name} (#${d.dataset_id})` })));
  const split = h("select", {}, [["test", "test"], ["dev", "dev"], ["", "all rows"]].map(([v, t]) => h("option", { value: v, text: t })));
  const evaluate = h("button", { class: "primary", id: "evaluate-both", text: "Evaluate both" });
  const title = (m) => `${m.name} v${m.version}`;
  append(root, [h("h1", {}, "Compare ", zh(title(ma)), " and ", zh(title(mb))),
    section("Same test set", sameTest ? h("p", { text: `Both were trained on dataset #${ma.dataset_id} and tested on its test split: the figures below are from the same rows.` })
      : h("p", { text: "These models were not tested on the same rows. Evaluate both on one dataset:" }),
    datasets.length ? h("div", { class: "row" }, h("label", {}, "Dataset", dataset), h("label", {}, "Split", split), evaluate) : null),
    results]);
  if (sameTest) results.replaceChildren(sideBySide(ma, mb, ma.metrics.test, mb.metrics.test));
  evaluate.addEventListener("click", async () => {
    evaluate.disabled = true;
    try {
      const start = (m) => {
        const body = { dataset_id: Number(dataset.value), version: m.version };
        if (split.value) body.split = split.value;
        return api(`/modeling/models/${encodeURIComponent(m.name)}/evaluate`, { method: "POST", body });
      };
      const first = await start(ma);
      let second;
      try { second = await start(mb); } catch (failure) {
        failure.message = `${title(ma)} is being evaluated (task ${shortId(first.task_id)}), but ${title(mb)} could not be: ${failure.message}`;
        throw failure;
      }
      const tasks = [first, second];
      results.replaceChildren(h("p", { class: "notice", text: "Evaluating both models…" }));
      every(1500, async () => {
        const [ta, tb] = await Promise.all(tasks.map((t) => api(`/modeling/tasks/${t.task_id}`)));
        if (!FINISHED.has(ta.status) || !FINISHED.has(tb.status)) return true;
        evaluate.disabled = false;
        const failed = [ta, tb].find((t) => t.status !== "SUCCESS");
        if (failed) {
          results.replaceChildren(h("p", { class: "error" }, `The evaluation ended ${failed.status}: ${failed.error || "no reason given"} (`,
            h("a", { href: `#/modeling-task/${failed.task_id}`, text: "its task" }), ")."));
        } else results.replaceChildren(sideBySide(ma, mb, ta.result.evaluation, tb.result.evaluation));
        return false;
      }, "Could not load the evaluations");
    } catch (failure) { showError(failure, "Could not start the evaluations"); evaluate.disabled = false; }
  });
}

function sideBySide(ma, mb, ea, eb) {
  const ra = ea.report || {}, rb = eb.report || {};
  const names = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
  const averages = names.filter((n) => n.endsWith(" avg"));
  const labels = names.filter((n) => !averages.includes(n)).sort();
  const f1 = (r, n) => (r[n] ? r[n]["f1-score"] : null);
  const rows = [...labels, ...averages].map((n) => {
    const fa = f1(ra, n), fb = f1(rb, n);
    const delta = fa !== null && fb !== null ? fb - fa : null;
    return h("tr", { class: averages.includes(n) ? "average" : null }, h("td", { lang: "zh-Hans", text: n }),
      h("td", { class: "num", text: ratio(ra[n]?.precision) }), h("td", { class: "num", text: ratio(ra[n]?.recall) }), h("td", { class: "num", text: ratio(fa) }),
      h("td", { class: "num", text: ratio(rb[n]?.precision) }), h("td", { class: "num", text: ratio(rb[n]?.recall) }), h("td", { class: "num", text: ratio(fb) }),
      h("td", { class: `num ${delta > 0.0005 ? "delta-up" : delta < -0.0005 ? "delta-down" : ""}`, text: delta === null ? "–" : `${delta >= 0 ? "+" : ""}${delta.toFixed(3)}` }),
      h("td", { class: "num", text: int(ra[n]?.support ?? rb[n]?.support) }));
  });
  const head = ["Label", "A precision", "A recall", "A F1", "B precision", "B recall", "B F1", "F1 B − A", "Support"].map((c, i) => h("th", { class: i ? "num" : null, text: c }));
  return h("div", {},
    section(`F1 per label: A = ${ma.name} v${ma.version}, B = ${mb.name} v${mb.version} (${int(ea.rows)} texts)`, table(head, rows, { id: "comparison" })),
    h("div", { class: "columns" },
      section(null, h("h2", {}, "A · ", zh(`${ma.name} v${ma.version}`)), evaluationBlock(ea)),
      section(null, h("h2", {}, "B · ", zh(`${mb.name} v${mb.version}`)), evaluationBlock(eb))));
}

// ---------------------------------------------------------------- datasets, rule sets, pattern sets

async function datasetsPage() {
  const root = view(); // this page's own: a late answer never draws into the next page
  const [datasets, ruleSets] = await Promise.all([listAll("/documenting/datasets", "datasets"), listAll("/documenting/rule-sets", "rule_sets")]);
  const labelsOf = (d) => new Set(Object.values(d.label_counts).flatMap((c) => Object.keys(c))).size;
  append(root, [h("h1", { text: "Datasets" }),
    section(null, datasets.length ? table(["#", "Name", "Rows", "Rejected", "Labels", "Format", "Updated"], datasets.map((d) => h("tr", {},
      h("td", { class: "num", text: d.dataset_id }), h("td", {}, h("a", { href: `#/dataset/${d.dataset_id}`, lang: "zh-Hans", text: d.name })),
      h("td", { class: "num", text: int(d.rows) }), h("td", { class: "num", text: int(d.rejected) }), h("td", { class: "num", text: labelsOf(d) }),
      h("td", { text: `${d.format}, ${d.encoding}` }), h("td", { text: when(d.updated_at) }))), { id: "datasets" })
      : empty("No dataset yet: upload doccano exports through POST /documenting/datasets (see API docs).")),
    ruleSets.length ? h("p", { class: "muted" }, `${ruleSets.length} rule sets: see `, h("a", { href: "#/rule-sets", text: "Rule sets" }), ".") : null]);
}

async function datasetPage(id) {
  const root = view(); // this page's own: a late answer never draws into the next page
  const d = await api(`/documenting/datasets/${id}`);
  append(root, [h("h1", {}, zh(d.name), h("span", { class: "muted", text: `dataset #${d.dataset_id}` })),
    d.description ? zh(d.description, "p") : null,
    h("div", { class: "cards" }, figure("Rows", int(d.rows)), Object.entries(d.split_sizes).map(([k, n]) => figure(`${k} rows`, int(n))),
      figure("Rejected at upload", int(d.rejected)), figure("Labels", d.label_set.length),
      figure("Labels per row", d.multi_label ? "several (multi-label)" : "one (single-label)", "label-mode"), figure("Updated", when(d.updated_at))),
    section("Rows per label and split", splitChart(d.label_counts)),
    section("Labels", table(["Label", "Description"], d.label_set.map((l) => h("tr", {}, h("td", {}, zh(l.name)), h("td", {}, zh(l.description)))))),
    section("Example rows", table(["Line", "Split", "Text", "Labels"], d.examples.map((r) => h("tr", {},
      h("td", { class: "num", text: r.line }), h("td", { text: r.split }), h("td", { class: "text" }, zh(r.text)), h("td", {}, labelChips(r.labels)))), { id: "examples" }),
    h("div", { class: "row" }, h("button", { text: "Download (JSONL)", onclick: () => download(`/documenting/datasets/${id}/download?format=jsonl`, `dataset-${id}.jsonl`) })))]);
}

async function ruleSetsPage() {
  const root = view(); // this page's own: a late answer never draws into the next page
  const sets = await listAll("/documenting/rule-sets", "rule_sets");
  append(root, [h("h1", { text: "Rule sets" }),
    section(null, sets.length ? table(["#", "Name", "Rules", "Labels", "Updated"], sets.map((r) => h("tr", {},
      h("td", { class: "num", text: r.rule_set_id }), h("td", {}, h("a", { href: `#/rule-set/${r.rule_set_id}`, lang: "zh-Hans", text: r.name })),
      h("td", { class: "num", text: int(r.rules) }), h("td", { lang: "zh-Hans", text: (r.labels || []).join(", ") }), h("td", { text: when(r.updated_at) }))), { id: "rule-sets" })
      : empty("No rule set yet: upload one through POST /documenting/rule-sets (see API docs)."))]);
}

async function ruleSetPage(id) {
  const root = view(); // this page's own: a late answer never draws into the next page
  const r = await api(`/documenting/rule-sets/${id}`);
  const perLabel = {};
  for (const item of r.items) perLabel[item.label] = (perLabel[item.label] || 0) + 1;
  const filter = h("input", { type: "search", placeholder: "filter by label or pattern" });
  const body = h("tbody", {});
  const draw = () => {
    const q = filter.value.trim();
    const shown = r.items.filter((i) => !q || i.label.includes(q) || i.pattern.includes(q)).slice(0, 500);
    body.replaceChildren(...shown.map((i) => h("tr", {}, h("td", {}, zh(i.label)), h("td", { text: i.kind }), h("td", {}, h("code", { lang: "zh-Hans", text: i.pattern })), h("td", { class: "num", text: i.weight }))));
  };
  filter.addEventListener("input", draw);
  draw();
  append(root, [h("h1", {}, zh(r.name), h("span", { class: "muted", text: `rule set #${r.rule_set_id} · ${int(r.rules)} rules` })),
    r.description ? zh(r.description, "p") : null,
    section("Rules per label", barChart(perLabel)),
    section("Rules (first 500 that match the filter)", h("div", { class: "row" }, filter), table(["Label", "Kind", "Pattern", "Weight"], body)),
    h("div", { class: "row" }, h("button", { text: "Download", onclick: () => download(`/documenting/rule-sets/${id}/download`, `rule-set-${id}.csv`) }))]);
}

async function patternsPage() {
  const root = view(); // this page's own: a late answer never draws into the next page
  const sets = await listAll("/preprocessing/patterns", "pattern_sets");
  append(root, [h("h1", { text: "Pattern sets" }),
    h("p", { class: "muted", text: "A pattern set leaves texts out: a task or a training given one does not label or learn from the texts it matches." }),
    section(null, sets.length ? table(["#", "Name", "Patterns", "Tasks running with it", "Updated"], sets.map((p) => h("tr", {},
      h("td", { class: "num", text: p.pattern_set_id }), h("td", {}, h("a", { href: `#/pattern/${p.pattern_set_id}`, lang: "zh-Hans", text: p.name })),
      h("td", { class: "num", text: p.pattern_count }), h("td", { class: "num", text: p.unfinished_tasks }), h("td", { text: when(p.updated_at) }))), { id: "pattern-sets" })
      : empty("No pattern set yet: create one through POST /preprocessing/patterns (see API docs)."))]);
}

async function patternPage(id) {
  const root = view(); // this page's own: a late answer never draws into the next page
  const p = await api(`/preprocessing/patterns/${id}`);
  const texts = h("textarea", { id: "dry-run-texts", lang: "zh-Hans", placeholder: "One text per line, e.g.\n加微信 abc12345 领红包\n今天天气很好" });
  const out = h("div", { id: "dry-run-result" });
  const run = async () => {
    const lines = texts.value.replace(/\n+$/, "").split("\n"); // a final newline is not a text
    if (!texts.value.trim()) { out.replaceChildren(h("p", { class: "form-error", text: "Write at least one text to test." })); return; }
    try {
      const r = await api(`/preprocessing/patterns/${id}/test`, { method: "POST", body: { texts: lines } });
      out.replaceChildren(h("p", { text: `${r.excluded} of ${lines.length} texts would be left out.` }),
        table(["Text", "Verdict", "First matching pattern"], r.results.map((v, i) => h("tr", {},
          h("td", { class: "text" }, zh(lines[i])), h("td", {}, v.excluded ? h("span", { class: "badge BREAK", text: "left out" }) : h("span", { class: "badge SUCCESS", text: "kept" })),
          h("td", {}, v.excluded ? h("code", { text: `#${v.pattern_index}  ${v.pattern}` }) : "–")))));
    } catch (failure) { out.replaceChildren(h("p", { class: "form-error", text: failure.message })); }
  };
  append(root, [h("h1", {}, zh(p.name), h("span", { class: "muted", text: `pattern set #${p.pattern_set_id}` })),
    p.description ? zh(p.description, "p") : null,
    section(`Patterns (${p.pattern_count}, RE2 syntax)`, h("ol", { start: 0 }, p.patterns.map((x) => h("li", {}, h("code", { lang: "zh-Hans", text: x }))))),
    section("Dry run", h("p", { class: "muted", text: "See which texts this set would leave out, without starting a task." }), texts,
      h("div", { class: "row" }, h("button", { class: "primary", id: "dry-run", text: "Test the texts", onclick: run })), out)]);
}

// ---------------------------------------------------------------- routing

const ROUTES = {
  tasks: tasksPage, "": tasksPage, "new-task": newTaskPage, task: taskPage, "modeling-task": modelingTaskPage,
  models: modelsPage, model: modelPage, compare: comparePage,
  datasets: datasetsPage, dataset: datasetPage, "rule-sets": ruleSetsPage, "rule-set": ruleSetPage,
  patterns: patternsPage, pattern: patternPage,
};
const SECTION = { task: "tasks", "new-task": "tasks", "modeling-task": "tasks", model: "models", compare: "models",
  dataset: "datasets", "rule-set": "rule-sets", pattern: "patterns" };

async function route() {
  page.alive = false;
  page.stops.forEach((stop) => stop());
  const current = { alive: true, stops: [], root: h("div", {}) };
  page = current;
  document.getElementById("view").replaceChildren(current.root);
  showError(null);
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  let name = path.split("/")[0];
  try {
    const args = path.split("/").map(decodeURIComponent);
    name = args.shift();
    const show = ROUTES[name] || tasksPage;
    for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.nav === (SECTION[name] || name || "tasks"));
    await (name === "compare" ? show(new URLSearchParams(search || "")) : show(...args));
  } catch (error) {
    if (current !== page) return;
    current.root.replaceChildren(h("h1", { text: "Cannot show this page" }));
    showError(error instanceof ApiError ? error : new Error(`The page failed: ${error.message}. Reloading it may help.`));
  }
}

document.getElementById("key-button").addEventListener("click", () => {
  askForKey("Enter the API key to use in this tab (Cancel keeps the one in use).").then(route, () => {});
});
window.addEventListener("hashchange", route);
route();
