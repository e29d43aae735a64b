// pointlab play: the page. The server trains; this draws what it sends and forwards the controls.
import { addRows, drawCurves, emptyHistory } from "./curves.js";
import { renderExplain } from "./explain.js";
import { createGenerate } from "./generate.js";
import { chooseLanguage, language, loadLanguages, serverText, setLanguage, t } from "./i18n.js";
import { createLessons } from "./lessons.js";
import { createDiagram, drawNode, nodeName } from "./network.js";
import { decode, drawPoints, drawRegions, nearestPoint, toData } from "./plane.js";
import { showNoise } from "./noise.js";
import { drawAllCurves, drawMembers } from "./panels.js";
import { badKeys, fillForm, fromUrl, layersEditor, pageParams, readForm, TOGGLES, toggleFromText, toUrl } from "./settings.js";
import { DEFAULT_SPEED, SPEEDS, speedFromText, speedText } from "./speed.js";

const $ = (id) => document.getElementById(id);
const form = document.body;
const state = {
  data: null, frame: null, history: [], socket: null, regions: null, diagram: null, explained: null,
  frames: 0, speed: DEFAULT_SPEED, lang: null, run: null, average: null, toggles: { ...TOGGLES },
};
window.pointlab = state; // for tests and for people who script the page: the last data and frame

// --- the connection ------------------------------------------------------------------------
// A link's settings go to the server as they are; a setting it refuses (an unknown key, a bad
// value, an upload that is gone) is dropped and the rest sent again, so any link opens a working
// page, with a message that says what was replaced. After three refusals: the defaults.
const link = { settings: {}, tries: 0, replaced: [] };
// Setups sent whose answer (ready or error) has not come. While a newer setup is on its way, the
// answer to an older one does not fill the form: it would undo a change made since (a layer
// added between two answers, then sent again with the next change, was lost under load).
let pending = 0;

function connect(initial) {
  const socket = new WebSocket(`ws://${window.location.host}/ws`);
  state.socket = socket;
  link.settings = initial;
  socket.addEventListener("open", () => {
    send({ type: "speed", epochs_per_s: state.speed });
    sendSetup(initial);
    lessons.connected();
  });
  socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    // The server says why when it refuses the tab (too many open); else it went away.
    showError(event.reason ? serverText(event.reason) : t("error.closed"));
    $("status").textContent = t("status.disconnected");
  });
}

function send(message) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message));
}

function sendSetup(settings) {
  pending += 1;
  send({ type: "setup", settings });
}

function showError(text) {
  $("error").textContent = text;
}

function showNotice(text) {
  $("notice").textContent = text;
}

function receive(message) {
  if (lessons.receive(message) || generate.receive(message)) return;
  if (message.type === "error") refused(message.message);
  else if (message.type === "ready") ready(message);
  else if (message.type === "frame") frame(message);
  else if (message.type === "exported") {
    $("exported").textContent = t("keep.exported", { path: message.path });
  } else if (message.type === "picture") {
    savePicture(message);
  } else if (message.type === "explained") {
    state.explained = message.trace;
    $("explain-panel").hidden = false;
    renderExplain($("explain-out"), message.trace);
    $("explain-panel").scrollIntoView({ behavior: "smooth", block: "start" });
  }
}

function refused(text) {
  if (lessons.failed(text)) {
    showError(serverText(text));
    return;
  }
  const wasSetup = pending > 0;
  pending = Math.max(0, pending - 1);
  if (wasSetup && !state.data) {
    // The page has never been set up: this link's settings. Drop what the server named.
    link.tries += 1;
    const keys = badKeys(text, Object.keys(link.settings));
    link.replaced.push(text);
    if (keys.length && link.tries < 3) {
      for (const key of keys) delete link.settings[key];
    } else {
      link.settings = {};
    }
    sendSetup(link.settings);
    return;
  }
  showError(serverText(text));
  if (wasSetup && state.data && pending === 0) fillForm(form, state.data.settings); // what trains
}

// --- what the server sends -----------------------------------------------------------------
function ready(data) {
  pending = Math.max(0, pending - 1);
  const reset = !state.data || data.members.length !== state.data.members.length || state.frame === null;
  const first = !state.data;
  state.data = data;
  showError("");
  if (first) send({ type: "view", diagram: true }); // the network's pictures, from now on
  if (first && link.replaced.length) {
    showNotice(t("notice.replaced", { problems: link.replaced.map(serverText).join("; ") }));
  }
  if (data.edits_left_out) showNotice(t("notice.edits-full", { n: data.edits_limit }));
  if (pending === 0) {
    fillForm(form, data.settings, typed);
    layers.render();
  }
  lessons.ready();
  updateUrl();
  if (data.settings.data === "upload") $("upload-option").disabled = false;
  $("epochs-total").textContent = data.epochs;
  const classes = $("add-class");
  if (classes.options.length !== data.n_classes) {
    classes.replaceChildren(...[...Array(data.n_classes).keys()].map((k) => new Option(`${k}`, `${k}`)));
  }
  if (reset) state.history = data.members.map(() => emptyHistory());
  $("compare-panel").hidden = data.members.length < 2;
  $("members-note").textContent = data.members.length > 1 ? t("population.note", { n: data.members.length }) : "";
  $("members").replaceChildren();
  drawPoints($("points"), data, state.toggles["show-test"]);
  showNoise($("noise-slider"), $("noise-meaning"), data);
  generate.classifierReady();
}

function updateUrl() {
  if (generate.updateUrl()) return; // the Generate mode's settings make the link while it is on
  if (state.data) history.replaceState(null, "", toUrl(state.data.settings, pageParams(state)));
}

function frame(f) {
  state.history = addRows(state.history, state.frame, f);
  state.frame = f;
  if (f.diagram) state.diagram = f.diagram;
  const m = f.main;
  $("epoch").textContent = f.epoch;
  showRate(f);
  $("status").textContent = t(`status.${f.status}`);
  const number = (v, digits) => (v === null ? "–" : v.toFixed(digits));
  $("train-loss").textContent = number(f.now.train_loss[m], 4);
  $("val-loss").textContent = number(f.now.val_loss[m], 4);
  $("train-acc").textContent = number(f.now.train_acc[m], 3);
  $("val-acc").textContent = number(f.now.val_acc[m], 3);
  $("main-label").textContent = state.data.members.length > 1 ? t("population.main", { label: state.data.members[m] }) : "";
  if (f.diverged[m]) showError(t("error.diverged"));
  state.regions = f.regions;
  drawPlane();
  state.frames += 1;
  state.firstRegionsAt ??= performance.now(); // ms since navigation began (benchmarks/web.py)
  drawCharts();
  if (state.data.members.length > 1) {
    if (f.thumbs) state.thumbs = { thumbs: f.thumbs, thumb_grid: f.thumb_grid };
    drawThumbs(f);
    drawAllCurves($("curves-chart"), state.history, f, state.data);
  }
  diagram.update(f.diagram, f, state.data);
  if (generate.active()) generate.header(); // the counters are the Generate mode's
}

function drawCharts() {
  drawCurves($("loss-chart"), $("acc-chart"), state.history, state.frame);
}

// The big plane: the main model's regions, or the map of the unit under the pointer.
function drawPlane() {
  const hover = diagram.hovered();
  const caption = $("plane-caption");
  if (hover && state.diagram && state.frame && hover.kind !== "output") {
    drawNode($("boundary"), hover, state.diagram, state.frame, state.data);
    caption.textContent = t("net.showing", { name: nodeName(hover, state.data) });
    caption.hidden = false;
    return;
  }
  caption.hidden = true;
  if (state.frame) {
    drawRegions($("boundary"), decode(state.frame.regions), state.frame.grid, state.data.colours, true, state.toggles.discretize);
  }
}

// The rate: the server's measure while playing; when a run stops, its average (epochs trained
// from Play to the stop over the time between), never a bare 0.
function showRate(f) {
  const now = performance.now();
  if (f.status === "playing") {
    state.run ??= { start: now, epoch: f.epoch };
    $("speed").textContent = t("rate", { n: Math.round(f.epochs_per_s) });
    return;
  }
  if (state.run && f.epoch > state.run.epoch && now > state.run.start) {
    state.average = ((f.epoch - state.run.epoch) * 1000) / (now - state.run.start);
  }
  state.run = null;
  $("speed").textContent = state.average === null ? "" : t("rate.average", { n: Math.round(state.average) });
}

// --- the controls --------------------------------------------------------------------------
// The settings that make the points: changing one drops the clicked points (`edits`).
const DATA_KEYS = ["data", "points", "classes", "noise", "label-noise", "data-seed"];

// Fields typed into since the last setup was sent: a "ready" for an older setup leaves them.
const typed = new Set();

function setup(event) {
  if (generate.active()) return generate.changed(event); // the data panel serves both modes
  showNotice("");
  typed.clear();
  // Until the server has accepted a setup the form holds no values (it fills it from "ready"):
  // then send the link's settings with the field just changed (no event: the layers editor's
  // field), and the server's defaults do the rest.
  const field = event?.target?.name ? event.target : form.querySelector("[name=layers]");
  const changed = field.value.trim() ? { [field.name]: field.value.trim() } : {};
  // Clicked points belong to the data they were clicked on: other data, no clicks.
  if (DATA_KEYS.includes(field.name)) form.querySelector("[name=edits]").value = "";
  sendSetup(state.data ? readForm(form) : { ...link.settings, ...changed });
}

const lessons = createLessons({
  send,
  form,
  setup: (settings) => {
    generate.leave(); // a lesson's setup is a classifier's
    showNotice("");
    typed.clear();
    sendSetup(settings);
  },
  settings: () => (state.data ? state.data.settings : readForm(form)),
  changed: () => {
    state.lesson = lessons.name();
    updateUrl();
  },
});
$("lessons-button").addEventListener("click", () => lessons.toggleIndex());

const diagram = createDiagram($("diagram"), $("net-details"), { onHover: drawPlane });
const layers = layersEditor($("widths"), form.querySelector("[name=layers]"), setup);
$("add-layer").addEventListener("click", () => layers.add());
$("remove-layer").addEventListener("click", () => layers.remove());
for (const el of form.querySelectorAll("[name]")) {
  el.addEventListener("input", () => typed.add(el.name));
  el.addEventListener("change", setup);
}
for (const name of ["play", "pause", "step", "reset", "export", "explain"]) {
  const both = ["play", "pause", "step", "reset"].includes(name); // buttons of both modes
  $(name).addEventListener("click", () => (both && generate.active() ? generate.button(name) : send({ type: name })));
}

// The Generate mode (generate.js); back to classifying, the form and counters are the classifier's.
const generate = createGenerate({
  send, showError, showNotice, state,
  classifierBusy: () => pending > 0,
  onClassify: () => {
    if (state.data) {
      fillForm(form, state.data.settings);
      layers.render();
      $("epochs-total").textContent = state.data.epochs;
    }
    if (state.frame) {
      $("epoch").textContent = state.frame.epoch;
      $("status").textContent = t(`status.${state.frame.status}`);
      showRate(state.frame);
    }
    updateUrl();
  },
});

// Compare mode's small pictures, flat when "discretize output" is on.
function drawThumbs(f) {
  drawMembers($("members"), f, state.data, state.history, (member) => send({ type: "select", member }), state.toggles.discretize);
}

// The plane's toggles: redraw at once (the small pictures too, from the last ones sent), and keep
// them in the link.
function showToggles() {
  $("show-test").checked = state.toggles["show-test"];
  $("discretize").checked = state.toggles.discretize;
}
for (const key of Object.keys(TOGGLES)) {
  $(key).addEventListener("change", () => {
    state.toggles[key] = $(key).checked;
    if (state.data) drawPoints($("points"), state.data, state.toggles["show-test"]);
    drawPlane();
    if (state.frame && state.thumbs && state.data.members.length > 1) drawThumbs({ ...state.frame, ...state.thumbs });
    updateUrl();
  });
}

// The noise slider writes the noise field, which sets up as any field does.
const noiseField = form.querySelector("[name=noise]");
$("noise-slider").addEventListener("input", () => {
  noiseField.value = $("noise-slider").value;
  typed.add("noise");
});
$("noise-slider").addEventListener("change", () => setup({ target: noiseField }));

function showSpeed() {
  $("speed-control").value = String(SPEEDS.indexOf(state.speed));
  $("speed-label").textContent = speedText(state.speed, t);
}
$("speed-control").addEventListener("input", () => {
  state.speed = SPEEDS[Number($("speed-control").value)];
  showSpeed();
  send({ type: "speed", epochs_per_s: state.speed });
  updateUrl();
});

$("lang").addEventListener("change", async () => {
  state.lang = $("lang").value;
  await setLanguage(state.lang);
  relabel();
  updateUrl();
});

// After a language change: the texts that the page writes itself (the rest is data-i18n).
function relabel() {
  showSpeed();
  layers.render();
  if (state.data) {
    showNoise($("noise-slider"), $("noise-meaning"), state.data);
    $("members-note").textContent = state.data.members.length > 1 ? t("population.note", { n: state.data.members.length }) : "";
  }
  if (state.frame) {
    $("status").textContent = t(`status.${state.frame.status}`);
    showRate(state.frame);
    drawCharts();
    diagram.update(null, state.frame, state.data);
    $("main-label").textContent = state.data.members.length > 1 ? t("population.main", { label: state.data.members[state.frame.main] }) : "";
  } else {
    $("status").textContent = t("status.connecting");
  }
  if (state.explained) renderExplain($("explain-out"), state.explained);
  lessons.render();
  generate.relabel();
}

$("choose-file").addEventListener("click", () => $("upload").click());
$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  $("file-name").textContent = file.name;
  delete $("file-name").dataset.i18n; // a name, not a word to translate
  if (file.size > 5 * 1024 * 1024) {
    showError(t("error.too-large", { name: file.name }));
    return;
  }
  const response = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, {
    method: "POST",
    body: file,
    headers: { "Content-Type": "text/csv" },
  });
  const answer = await response.json();
  if (!response.ok) {
    showError(serverText(answer.error));
    return;
  }
  $("upload-option").disabled = false;
  send({ type: "points", X: answer.X, y: answer.y, name: answer.name });
  generate.uploaded();
});

$("points").addEventListener("click", (event) => {
  if (!state.data) return;
  const canvas = $("points");
  const box = canvas.getBoundingClientRect();
  const px = ((event.clientX - box.left) / box.width) * canvas.width;
  const py = ((event.clientY - box.top) / box.height) * canvas.height;
  if (event.shiftKey) {
    const i = nearestPoint(canvas, state.data, px, py, 10, state.toggles["show-test"]);
    if (i >= 0) send({ type: "remove_point", index: state.data.index[i] });
  } else {
    const [x, y] = toData(state.data.extent, canvas, px, py);
    send({ type: "add_point", x, y, label: Number($("add-class").value) });
  }
});

// Download PNG: the server draws the main model's figure as `pointlab train` draws boundary.png
// (axes, title, legend, the model's description) from its weights now; the page saves it.
$("png").addEventListener("click", () => send({ type: "picture" }));

function savePicture(message) {
  const a = document.createElement("a");
  a.download = message.name;
  a.href = `data:image/png;base64,${message.png}`;
  a.click();
}

$("share").addEventListener("click", async () => {
  const url = window.location.href;
  try {
    await navigator.clipboard.writeText(url);
    showNotice(t("keep.copied", { url }));
    $("share").textContent = t("keep.copied.button");
    setTimeout(() => { $("share").textContent = t("keep.share"); }, 2000);
  } catch {
    showNotice(t("keep.copy-by-hand", { url }));
  }
});

async function start() {
  const names = await loadLanguages();
  const { settings, page } = fromUrl();
  state.lang = page.lang && page.lang in names ? page.lang : null;
  state.speed = speedFromText(page.speed ?? null) ?? DEFAULT_SPEED;
  $("lang").replaceChildren(...Object.entries(names).map(([code, name]) => new Option(name, code)));
  const lang = await setLanguage(chooseLanguage(state.lang));
  $("lang").value = lang;
  // The page's own keys, checked here: a bad one is said and replaced, as the server's are.
  if (page.lang !== undefined && !state.lang) {
    link.replaced.push(t("notice.lang", { value: page.lang, names: Object.values(names).join(", ") }));
  }
  if (page.speed !== undefined && speedFromText(page.speed) === null) {
    link.replaced.push(t("notice.speed", { value: page.speed, speed: speedText(DEFAULT_SPEED, t) }));
  }
  for (const [key, fallback] of Object.entries(TOGGLES)) {
    if (page[key] === undefined) continue;
    const value = toggleFromText(page[key]);
    if (value === null) link.replaced.push(t("notice.toggle", { key, value: page[key], fallback: fallback ? "1" : "0" }));
    else state.toggles[key] = value;
  }
  showToggles();
  $("status").textContent = t("status.connecting");
  relabel();
  window.pointlab.language = language;
  // mode=generate: the link's settings are the Generate mode's; the classifier starts on defaults.
  if (page.mode === "generate") generate.open(settings);
  connect(page.mode === "generate" ? {} : settings);
  if (page.lesson) {
    state.lesson = page.lesson;
    lessons.open(page.lesson, settings);
  }
}

start();
