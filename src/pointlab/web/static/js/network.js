// The network, drawn as TensorFlow Playground draws it: one column per layer, each unit a small
// map of its value over the plane, each weight a line (blue positive, orange negative, thicker
// when larger). Hover a unit: the page shows its map in the big plane; click a unit or a line:
// its numbers below. A layer wider than the server sends (16 units) shows its first units and
// "+k more". Everything is drawn on one canvas; hits are found from the layout, not the DOM.
// The numbers come in the frame's `diagram` (session.py): per hidden layer the units' bytes
// (activation / the layer's largest |activation|, -1..1 -> 0..255) and per layer the weights
// between the units shown, as [to][from].
import { t } from "./i18n.js";
import { decode, regionPixels } from "./plane.js";

const POSITIVE = [31, 95, 191], NEGATIVE = [232, 113, 10];

// Diverging colours for a value in -1..1: orange negative, white 0, blue positive.
export function unitPixels(bytes, grid) {
  const out = new Uint8ClampedArray(grid * grid * 4);
  for (let i = 0; i < grid * grid; i++) {
    const v = bytes[i] / 127.5 - 1;
    const [r, g, b] = v >= 0 ? POSITIVE : NEGATIVE;
    const a = Math.min(1, Math.abs(v));
    out[4 * i] = 255 * (1 - a) + r * a;
    out[4 * i + 1] = 255 * (1 - a) + g * a;
    out[4 * i + 2] = 255 * (1 - a) + b * a;
    out[4 * i + 3] = 255;
  }
  return out;
}

// The input x or y over the plane, scaled to -1..1 across the picture (row 0 at the top).
function inputBytes(which, grid) {
  const out = new Uint8Array(grid * grid);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const v = which === 0 ? (c + 0.5) / grid : 1 - (r + 0.5) / grid;
      out[r * grid + c] = Math.round(v * 255);
    }
  }
  return out;
}

// A node's picture as RGBA pixels and the grid they cover: what the small map and the big
// plane (on hover) show.
export function nodePixels(node, diagram, frame, data) {
  if (node.kind === "output") {
    return { pixels: regionPixels(decode(frame.regions), frame.grid, data.colours), grid: frame.grid };
  }
  const grid = diagram.grid;
  // Inputs: the server's maps of x, y, x2, ... (`features`), else x or y drawn here.
  const input = () => (diagram.inputs ? decode(diagram.inputs.units[node.unit]) : inputBytes(node.unit, grid));
  const bytes = node.kind === "input" ? input() : decode(diagram.layers[node.layer - 1].units[node.unit]);
  return { pixels: unitPixels(bytes, grid), grid };
}

// A node's map over a whole canvas: the big plane while the pointer is on the node.
export function drawNode(canvas, node, diagram, frame, data) {
  const { pixels, grid } = nodePixels(node, diagram, frame, data);
  const ctx = canvas.getContext("2d");
  const small = document.createElement("canvas");
  small.width = small.height = grid;
  small.getContext("2d").putImageData(new ImageData(pixels, grid, grid), 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

export function nodeName(node, data) {
  if (node.kind === "input") return t("net.input-name", { name: node.name || "xy"[node.unit] });
  if (node.kind === "output") {
    return data.n_classes > 2 ? t("net.output-class", { k: node.unit }) : t("net.output-name");
  }
  return t("net.unit-name", { layer: node.layer, unit: node.unit + 1 });
}

function rgba([r, g, b], a) {
  return `rgba(${r},${g},${b},${a.toFixed(3)})`;
}

export function createDiagram(canvas, details, { onHover }) {
  const view = { diagram: null, frame: null, data: null, nodes: [], edges: [], hover: null, selected: null };

  function layout(diagram, data) {
    const width = canvas.clientWidth || canvas.width, height = canvas.clientHeight || canvas.height;
    const names = diagram.inputs ? diagram.inputs.names : ["x", "y"];
    const columns = [names.map((name, unit) => ({ kind: "input", layer: 0, unit, name }))];
    diagram.layers.forEach((layer, i) => {
      columns.push(layer.units.map((_, unit) => ({ kind: "hidden", layer: i + 1, unit })));
      columns[i + 1].width = layer.width;
    });
    const outputs = diagram.weights[diagram.weights.length - 1].length;
    columns.push([...Array(outputs).keys()].map((unit) => ({ kind: "output", layer: columns.length, unit })));
    const top = 40, bottom = 24, left = 30, right = 30;
    const most = Math.max(...columns.map((c) => c.length));
    const pitch = Math.min(46, (height - top - bottom) / most);
    // Square maps as large as the height allows, and small enough to leave room for the lines.
    const room = (width - left - right) / Math.max(1, columns.length - 1);
    const size = Math.max(12, Math.min(36, pitch - 5, room * 0.45));
    const step = columns.length > 1 ? (width - left - right - size) / (columns.length - 1) : 0;
    const nodes = [];
    columns.forEach((column, c) => {
      const y0 = top + (height - top - bottom - column.length * pitch) / 2 + pitch / 2;
      // The output of a two-class model is its picture of the plane: drawn larger.
      const own = c === columns.length - 1 && column.length === 1 ? Math.min(2 * size, 56) : size;
      column.forEach((node, i) => {
        Object.assign(node, { column: c, x: left + size / 2 + c * step, y: y0 + i * pitch, size: own });
        nodes.push(node);
      });
    });
    const edges = [];
    diagram.weights.forEach((matrix, c) => {
      const largest = Math.max(1e-9, ...matrix.flat().map((w) => Math.abs(w ?? 0)));
      matrix.forEach((row, j) => {
        row.forEach((value, a) => {
          const from = columns[c][a], to = columns[c + 1][j];
          if (!from || !to) return;
          edges.push({ kind: "weight", layer: c + 1, from, to, value, strength: Math.abs(value ?? 0) / largest });
        });
      });
    });
    return { columns, nodes, edges, width, height, top, size, step };
  }

  function draw() {
    const { diagram, frame, data } = view;
    if (!diagram || !frame || !data) return;
    const dpr = window.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth || canvas.width, cssHeight = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(cssWidth * dpr)) canvas.width = Math.round(cssWidth * dpr);
    if (canvas.height !== Math.round(cssHeight * dpr)) canvas.height = Math.round(cssHeight * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    const shape = layout(diagram, data);
    view.nodes = shape.nodes;
    view.edges = shape.edges;
    // The weights, faint and thin when small, under the units.
    for (const edge of shape.edges) {
      const chosen = view.selected && sameItem(view.selected, edge);
      ctx.strokeStyle = rgba((edge.value ?? 0) >= 0 ? POSITIVE : NEGATIVE, chosen ? 1 : 0.15 + 0.85 * edge.strength);
      ctx.lineWidth = chosen ? 4 : 0.5 + 3.5 * edge.strength;
      ctx.beginPath();
      ctx.moveTo(edge.from.x + edge.from.size / 2, edge.from.y);
      ctx.lineTo(edge.to.x - edge.to.size / 2, edge.to.y);
      ctx.stroke();
    }
    const small = document.createElement("canvas");
    for (const node of shape.nodes) {
      const { pixels, grid } = nodePixels(node, diagram, frame, data);
      small.width = small.height = grid;
      small.getContext("2d").putImageData(new ImageData(pixels, grid, grid), 0, 0);
      ctx.imageSmoothingEnabled = true;
      const s = node.size, x = node.x - s / 2, y = node.y - s / 2;
      ctx.drawImage(small, x, y, s, s);
      const marked = (view.hover && sameItem(view.hover, node)) || (view.selected && sameItem(view.selected, node));
      ctx.lineWidth = marked ? 3 : 1;
      ctx.strokeStyle = marked ? "#111" : node.kind === "output" && data.n_classes > 2 ? data.colours[node.unit] : "#999";
      ctx.strokeRect(x, y, s, s);
      if (node.kind === "input") {
        ctx.fillStyle = "#333";
        ctx.font = "12px system-ui, sans-serif";
        ctx.textAlign = "right";
        ctx.fillText(node.name || "xy"[node.unit], x - 4, node.y + 4);
      }
    }
    // Column titles, and "+k more" under a layer wider than what is drawn.
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillStyle = "#444";
    // Short titles ("layer 2", "16") where the long ones would run into each other.
    const last = shape.columns.length - 1;
    const fits = (texts) => Math.max(...texts.map((text) => ctx.measureText(text).width)) < shape.step - 6;
    const long = fits(shape.columns.map((_, c) => columnName(c)));
    const longUnits = fits(shape.columns.slice(1, last).map((column) => t("net.units", { n: column.width })));
    shape.columns.forEach((column, c) => {
      const x = column[0].x;
      const short = c === 0 ? t("net.inputs.short") : c === last ? t("net.output.short") : t("net.hidden.short", { layer: c });
      ctx.fillText(long ? columnName(c) : short, x, 14);
      if (c > 0 && c < last) {
        ctx.fillStyle = "#777";
        ctx.fillText(longUnits ? t("net.units", { n: column.width }) : String(column.width), x, 28);
        if (column.width > column.length) {
          const y = column[column.length - 1].y + shape.size / 2 + 13;
          ctx.fillText(t("net.more", { k: column.width - column.length }), x, y);
        }
        ctx.fillStyle = "#444";
      }
    });
    // For the page's tests (main.js sets window.pointlab; the notebook widget does not).
    if (window.pointlab) window.pointlab.diagramNodes = shape.nodes.map(({ kind, layer, unit, x, y, size }) => ({ kind, layer, unit, x, y, size }));
  }

  function columnName(c) {
    const last = view.diagram.layers.length + 1;
    return c === 0 ? t("net.inputs") : c === last ? t("net.output") : t("net.hidden", { layer: c });
  }

  function sameItem(a, b) {
    if (a.kind !== b.kind) return false;
    if (a.kind === "weight") return a.layer === b.layer && a.from.unit === b.from.unit && a.to.unit === b.to.unit;
    return a.layer === b.layer && a.unit === b.unit;
  }

  function nodeAt(x, y) {
    return view.nodes.find((n) => Math.abs(n.x - x) <= n.size / 2 && Math.abs(n.y - y) <= n.size / 2) || null;
  }

  function edgeAt(x, y, reach = 5) {
    let best = null, bestDistance = reach;
    for (const edge of view.edges) {
      const x1 = edge.from.x + edge.from.size / 2, y1 = edge.from.y, x2 = edge.to.x - edge.to.size / 2, y2 = edge.to.y;
      const dx = x2 - x1, dy = y2 - y1;
      const u = Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy || 1)));
      const d = Math.hypot(x - (x1 + u * dx), y - (y1 + u * dy));
      if (d < bestDistance) { best = edge; bestDistance = d; }
    }
    return best;
  }

  function position(event) {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  canvas.addEventListener("mousemove", (event) => {
    const node = nodeAt(...position(event));
    if ((node && view.hover && sameItem(node, view.hover)) || node === view.hover) return;
    view.hover = node;
    canvas.style.cursor = node ? "pointer" : "default";
    onHover(node);
    draw();
  });
  canvas.addEventListener("mouseleave", () => {
    if (!view.hover) return;
    view.hover = null;
    onHover(null);
    draw();
  });
  canvas.addEventListener("click", (event) => {
    const [x, y] = position(event);
    view.selected = nodeAt(x, y) || edgeAt(x, y);
    draw();
    describe();
  });

  // The numbers of the clicked unit or weight, from the latest frame.
  function describe() {
    const { diagram, data } = view;
    details.replaceChildren();
    if (!view.selected || !diagram) return;
    const chosen = view.selected.kind === "weight"
      ? view.edges.find((e) => sameItem(e, view.selected))
      : view.nodes.find((n) => sameItem(n, view.selected));
    if (!chosen) return;
    const number = (v) => (v === null || v === undefined ? "–" : v.toPrecision(4));
    const line = (text, strong = false) => details.append(Object.assign(document.createElement(strong ? "strong" : "div"), { textContent: text }));
    if (chosen.kind === "weight") {
      line(t("net.weight", { from: nodeName(chosen.from, data), to: nodeName(chosen.to, data) }), true);
      line(t("net.weight-value", { value: number(chosen.value) }));
      return;
    }
    line(nodeName(chosen, data), true);
    const c = chosen.column;
    if (c > 0) line(t("net.bias", { value: number(diagram.biases[c - 1][chosen.unit]) }));
    if (chosen.kind === "hidden") line(t("net.scale", { value: number(diagram.layers[c - 1].scale) }));
    // Weights as "unit: value" after the name of the layer they come from or go to.
    const short = (node) => (node.kind === "input" ? node.name || "xy"[node.unit] : String(node.unit + 1));
    const list = (items) => items.map(([node, w]) => `${short(node)}: ${number(w)}`).join(", ");
    const incoming = view.edges.filter((e) => e.to === chosen).map((e) => [e.from, e.value]);
    const outgoing = view.edges.filter((e) => e.from === chosen).map((e) => [e.to, e.value]);
    if (incoming.length) line(t("net.weights-in", { layer: columnName(c - 1), list: list(incoming) }));
    if (outgoing.length) line(t("net.weights-out", { layer: columnName(c + 1), list: list(outgoing) }));
  }

  return {
    update(diagram, frame, data) {
      view.diagram = diagram ?? view.diagram;
      view.frame = frame;
      view.data = data;
      draw();
      if (diagram) describe();
    },
    clear() {
      view.diagram = null;
      view.hover = view.selected = null;
      details.replaceChildren();
    },
    hovered: () => view.hover,
    redraw: draw,
    current: () => view,
  };
}
