// pointlab play: the page. The server trains; this draws what it sends and forwards the controls.
import { drawChart } from "./charts.js";
import { decode, drawPoints, drawRegions, nearestPoint, toData } from "./plane.js";
import { drawAllCurves, drawMembers, drawNetwork } from "./panels.js";
import { fillForm, fromUrl, layersEditor, readForm, toUrl } from "./settings.js";

const $ = (id) => document.getElementById(id);
const form = document.body;
const state = { data: null, frame: null, history: [], socket: null, regions: null };
window.pointlab = state; // for tests and for people who script the page: the last data and frame

// --- the connection ------------------------------------------------------------------------
function connect(initial) {
  const socket = new WebSocket(`ws://${window.location.host}/ws`);
  state.socket = socket;
  socket.addEventListener("open", () => send({ type: "setup", settings: initial }));
  socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    // The server says why when it refuses the tab (too many open); else it went away.
    showError(event.reason || "The connection to pointlab play was closed: is the server still running? Reload the page.");
    $("status").textContent = "disconnected";
  });
}

function send(message) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message));
}

function showError(text) {
  $("error").textContent = text;
}

function receive(message) {
  if (message.type === "error") showError(message.message);
  else if (message.type === "ready") ready(message);
  else if (message.type === "frame") frame(message);
  else if (message.type === "exported") {
    $("exported").textContent = `Exported: ${message.path} (try pointlab evaluate ${message.path} ${message.path}/data.csv)`;
  } else if (message.type === "explained") {
    $("explain-panel").hidden = false;
    $("explain-out").textContent = JSON.stringify(message.trace, null, 2);
  }
}

// --- what the server sends -----------------------------------------------------------------
function ready(data) {
  const reset = !state.data || data.members.length !== state.data.members.length || state.frame === null;
  state.data = data;
  showError("");
  fillForm(form, data.settings);
  layers.render();
  history.replaceState(null, "", toUrl(data.settings));
  if (data.settings.data === "upload") $("upload-option").disabled = false;
  $("epochs-total").textContent = data.epochs;
  const classes = $("add-class");
  if (classes.options.length !== data.n_classes) {
    classes.replaceChildren(...[...Array(data.n_classes).keys()].map((k) => new Option(`${k}`, `${k}`)));
  }
  if (reset) state.history = data.members.map(() => emptyHistory());
  $("compare-panel").hidden = data.members.length < 2;
  $("members-note").textContent = data.members.length > 1 ? `${data.members.length} members trained as one population` : "";
  $("members").replaceChildren();
  drawPoints($("points"), data);
}

function emptyHistory() {
  return { epoch: [], train_loss: [], train_acc: [], val_loss: [], val_acc: [] };
}

function frame(f) {
  if (f.epoch === 0 || (state.frame && f.epoch < state.frame.epoch)) {
    state.history = state.history.map(() => emptyHistory());
  }
  f.rows.forEach((rows, m) => {
    for (const key of Object.keys(rows)) state.history[m]?.[key].push(...rows[key]);
  });
  state.frame = f;
  const m = f.main;
  $("epoch").textContent = f.epoch;
  $("speed").textContent = Math.round(f.epochs_per_s);
  $("status").textContent = f.status;
  const number = (v, digits) => (v === null ? "–" : v.toFixed(digits));
  $("train-loss").textContent = number(f.now.train_loss[m], 4);
  $("val-loss").textContent = number(f.now.val_loss[m], 4);
  $("train-acc").textContent = number(f.now.train_acc[m], 3);
  $("val-acc").textContent = number(f.now.val_acc[m], 3);
  $("main-label").textContent = state.data.members.length > 1 ? `main model: ${state.data.members[m]}` : "";
  if (f.diverged[m]) showError("The main model diverged (its loss became NaN or infinite): try a lower learning rate.");
  state.regions = f.regions;
  drawRegions($("boundary"), decode(f.regions), f.grid, state.data.colours);
  state.frames = (state.frames || 0) + 1;
  state.firstRegionsAt ??= performance.now(); // ms since navigation began (benchmarks/web.py)
  const h = state.history[m];
  const xs = [...h.epoch, f.epoch];
  drawChart($("loss-chart"), [
    { x: xs, y: [...h.train_loss, f.now.train_loss[m]], colour: "#1f77b4", label: "train" },
    { x: xs, y: [...h.val_loss, f.now.val_loss[m]], colour: "#ff7f0e", label: "validation" },
  ], { log: true, title: "loss" });
  drawChart($("acc-chart"), [
    { x: xs, y: [...h.train_acc, f.now.train_acc[m]], colour: "#1f77b4", label: "train" },
    { x: xs, y: [...h.val_acc, f.now.val_acc[m]], colour: "#ff7f0e", label: "validation" },
  ], { yMin: 0, yMax: 1, title: "accuracy" });
  if (state.data.members.length > 1) {
    drawMembers($("members"), f, state.data, state.history, (member) => send({ type: "select", member }));
    drawAllCurves($("curves-chart"), state.history, f, state.data);
  }
  if (f.network) drawNetwork($("units"), f.network, $("network-layer"));
}

// --- the controls --------------------------------------------------------------------------
function setup(event) {
  // Until the server has accepted a setup the form holds no values (it fills it from "ready"):
  // then send the link's settings with the field just changed (no event: the layers editor's
  // field), and the server's defaults do the rest.
  const field = event?.target?.name ? event.target : form.querySelector("[name=layers]");
  const changed = field.value.trim() ? { [field.name]: field.value.trim() } : {};
  const settings = state.data ? readForm(form) : { ...fromUrl(), ...changed };
  send({ type: "setup", settings });
}

const layers = layersEditor($("widths"), form.querySelector("[name=layers]"), setup);
$("add-layer").addEventListener("click", () => layers.add());
$("remove-layer").addEventListener("click", () => layers.remove());
for (const el of form.querySelectorAll("[name]")) el.addEventListener("change", setup);
for (const name of ["play", "pause", "step", "reset", "export", "explain"]) {
  $(name).addEventListener("click", () => send({ type: name }));
}
$("network-on").addEventListener("change", sendView);
$("network-layer").addEventListener("change", sendView);
function sendView() {
  const on = $("network-on").checked;
  send({ type: "view", layer: on ? Number($("network-layer").value || 0) : null });
}

$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  if (file.size > 5 * 1024 * 1024) {
    showError(`${file.name}: larger than the limit of 5 MB`);
    return;
  }
  const response = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, {
    method: "POST",
    body: file,
    headers: { "Content-Type": "text/csv" },
  });
  const answer = await response.json();
  if (!response.ok) {
    showError(answer.error);
    return;
  }
  $("upload-option").disabled = false;
  send({ type: "points", X: answer.X, y: answer.y, name: answer.name });
});

$("points").addEventListener("click", (event) => {
  if (!state.data) return;
  const canvas = $("points");
  const box = canvas.getBoundingClientRect();
  const px = ((event.clientX - box.left) / box.width) * canvas.width;
  const py = ((event.clientY - box.top) / box.height) * canvas.height;
  if (event.shiftKey) {
    const i = nearestPoint(canvas, state.data, px, py);
    if (i >= 0) send({ type: "remove_point", index: state.data.index[i] });
  } else {
    const [x, y] = toData(state.data.extent, canvas, px, py);
    send({ type: "add_point", x, y, label: Number($("add-class").value) });
  }
});

$("png").addEventListener("click", () => {
  const out = document.createElement("canvas");
  out.width = $("boundary").width;
  out.height = $("boundary").height;
  const ctx = out.getContext("2d");
  ctx.drawImage($("boundary"), 0, 0);
  ctx.drawImage($("points"), 0, 0);
  const link = document.createElement("a");
  link.download = `pointlab-${state.data ? state.data.name.replace(/\W+/g, "-") : "regions"}-epoch-${state.frame ? state.frame.epoch : 0}.png`;
  link.href = out.toDataURL("image/png");
  link.click();
});

$("share").addEventListener("click", () => navigator.clipboard?.writeText(window.location.href));

connect(fromUrl());
