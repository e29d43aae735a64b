// The population's small multiples and validation curves, and the inside-the-network view.
import { drawChart } from "./charts.js";
import { decode, drawRegions } from "./plane.js";

// Members ordered by validation loss (training loss without validation), best first.
export function ranking(now) {
  const key = now.val_loss.some((v) => v !== null) ? now.val_loss : now.train_loss;
  return key.map((v, i) => [v === null ? Infinity : v, i]).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
}

export function drawMembers(container, frame, data, history, onSelect) {
  const order = ranking(frame.now);
  const existing = new Map([...container.children].map((el) => [Number(el.dataset.member), el]));
  order.forEach((m, rank) => {
    let el = existing.get(m);
    if (!el) {
      el = document.createElement("div");
      el.className = "member";
      el.dataset.member = m;
      el.dataset.testid = "member";
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 96;
      const label = document.createElement("span");
      el.append(canvas, label);
      el.addEventListener("click", () => onSelect(m));
    }
    const [canvas, label] = el.children;
    if (frame.thumbs) drawRegions(canvas, decode(frame.thumbs[m]), frame.thumb_grid, data.colours, true);
    const loss = frame.now.val_loss[m] ?? frame.now.train_loss[m];
    label.textContent = `#${rank + 1} ${data.members[m] || "member " + m} · ${loss === null ? "diverged" : loss.toFixed(3)}`;
    el.classList.toggle("main", m === frame.main);
    container.append(el); // re-appending moves it into rank order
  });
  for (const [m, el] of existing) if (m >= frame.now.train_loss.length) el.remove();
}

export function drawAllCurves(canvas, history, frame, data) {
  const order = ranking(frame.now);
  const hasVal = frame.now.val_loss.some((v) => v !== null);
  const key = hasVal ? "val_loss" : "train_loss";
  const series = order.map((m, rank) => ({
    x: history[m].epoch,
    y: history[m][key],
    colour: `hsl(${220 - (220 * rank) / Math.max(1, order.length - 1)}, 70%, 45%)`,
    width: m === frame.main ? 3 : 1.2,
    alpha: m === frame.main ? 1 : 0.7,
  }));
  drawChart(canvas, series, { log: true, title: `every member's ${hasVal ? "validation" : "training"} loss (blue: best, red: worst; thick: the main model)` });
}

// Diverging colours for an activation in -1..1: blue low, white 0, orange high.
function unitPixels(bytes, grid) {
  const out = new Uint8ClampedArray(grid * grid * 4);
  for (let i = 0; i < grid * grid; i++) {
    const v = bytes[i] / 127.5 - 1;
    const [r, g, b] = v >= 0 ? [245, 146, 35] : [8, 119, 189];
    const a = Math.abs(v);
    out[4 * i] = 255 * (1 - a) + r * a;
    out[4 * i + 1] = 255 * (1 - a) + g * a;
    out[4 * i + 2] = 255 * (1 - a) + b * a;
    out[4 * i + 3] = 255;
  }
  return out;
}

export function drawNetwork(container, network, select) {
  if (network.layer === null) {
    container.textContent = "This model has no hidden layer: it is a logistic regression.";
    return;
  }
  const wanted = [...Array(network.layers).keys()].map(String);
  if ([...select.options].map((o) => o.value).join() !== wanted.join()) {
    select.replaceChildren(...wanted.map((v) => new Option(`${Number(v) + 1}`, v)));
    select.value = String(network.layer);
  }
  container.replaceChildren();
  const g = network.grid;
  network.units.forEach((b64, u) => {
    const el = document.createElement("div");
    el.className = "unit";
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = g;
    canvas.getContext("2d").putImageData(new ImageData(unitPixels(decode(b64), g), g, g), 0, 0);
    const bars = document.createElement("canvas");
    bars.width = 72;
    bars.height = 24;
    drawWeights(bars, network.weights[u]);
    const label = document.createElement("span");
    label.textContent = `unit ${u + 1} · bias ${network.bias[u].toFixed(2)}`;
    el.append(canvas, bars, label);
    el.title = `weights in: ${network.weights[u].map((w) => w.toFixed(2)).join(", ")}`;
    container.append(el);
  });
  if (network.shown < network.width) {
    container.append(Object.assign(document.createElement("p"), {
      className: "hint", textContent: `the first ${network.shown} of ${network.width} units`,
    }));
  }
}

// One bar per incoming weight, height by size (scaled to the largest), red negative, blue positive.
function drawWeights(canvas, weights) {
  const ctx = canvas.getContext("2d");
  const scale = Math.max(1e-9, ...weights.map(Math.abs));
  const w = canvas.width / weights.length, mid = canvas.height / 2;
  weights.forEach((value, i) => {
    ctx.fillStyle = value >= 0 ? "#1f5fbf" : "#c62828";
    const h = (Math.abs(value) / scale) * mid;
    ctx.fillRect(i * w, value >= 0 ? mid - h : mid, Math.max(1, w - 1), h);
  });
  ctx.fillStyle = "#999";
  ctx.fillRect(0, mid, canvas.width, 1);
}
