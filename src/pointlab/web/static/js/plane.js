// The plane: decision regions (with the decision boundary) on one canvas, the points on another.
// Regions arrive as bytes over a G x G grid, row 0 at the top: P(class 1) * 255 for two classes,
// or K bytes a cell, P(class k) * 255, for K > 2. The page interpolates the probabilities (not
// the colours) to a finer grid before it colours them, and traces the boundary between cell
// centres, so boundaries are smooth for any number of classes.

export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function decode(b64) {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// Every class's probability per cell: (G * G * K) floats, cell-major.
export function probabilities(bytes, grid, k) {
  const out = new Float32Array(grid * grid * k);
  for (let i = 0; i < grid * grid; i++) {
    if (k === 2) {
      out[2 * i + 1] = bytes[i] / 255;
      out[2 * i] = 1 - out[2 * i + 1];
    } else {
      for (let j = 0; j < k; j++) out[k * i + j] = bytes[k * i + j] / 255;
    }
  }
  return out;
}

// RGBA pixels (size * size * 4) of the regions: each pixel's probabilities interpolated
// (bilinearly, between cell centres) from the grid; the likeliest class's colour, paler where
// the model is less sure, or at one strength when `discrete` (the Playground's "discretize
// output").
export function regionPixels(bytes, grid, colours, size = grid, discrete = false) {
  const rgb = colours.map(hexToRgb);
  const k = colours.length;
  const probs = probabilities(bytes, grid, k);
  const out = new Uint8ClampedArray(size * size * 4);
  // For each pixel row (and column): the grid cell before it and the weight of the next one.
  const lo = new Int32Array(size), frac = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const g = Math.min(grid - 1, Math.max(0, ((i + 0.5) * grid) / size - 0.5));
    lo[i] = Math.max(0, Math.min(grid - 2, Math.floor(g)));
    frac[i] = g - lo[i];
  }
  const row = grid * k;
  for (let y = 0; y < size; y++) {
    const ty = frac[y], base = lo[y] * row;
    for (let x = 0; x < size; x++) {
      const tx = frac[x], a = base + lo[x] * k;
      const wa = (1 - ty) * (1 - tx), wb = (1 - ty) * tx, wd = ty * (1 - tx), we = ty * tx;
      let top = 0, best = -1;
      for (let j = 0; j < k; j++) {
        const p = wa * probs[a + j] + wb * probs[a + k + j] + wd * probs[a + row + j] + we * probs[a + row + k + j];
        if (p > best) { best = p; top = j; }
      }
      const strength = discrete ? 1 : Math.max(0, (best - 1 / k) / (1 - 1 / k)); // 0 on a boundary
      const mix = 0.12 + 0.5 * strength; // mixed with white
      const colour = rgb[top] || [128, 128, 128], i = 4 * (y * size + x);
      out[i] = 255 * (1 - mix) + colour[0] * mix;
      out[i + 1] = 255 * (1 - mix) + colour[1] * mix;
      out[i + 2] = 255 * (1 - mix) + colour[2] * mix;
      out[i + 3] = 255;
    }
  }
  return out;
}

// Draw regions bytes onto a canvas, at up to half the canvas's resolution (scaled up smoothly).
export function drawRegions(canvas, bytes, grid, colours, boundary = true, discrete = false) {
  const ctx = canvas.getContext("2d");
  const size = Math.max(grid, Math.min(240, Math.ceil(canvas.width / 2)));
  const small = document.createElement("canvas");
  small.width = small.height = size;
  small.getContext("2d").putImageData(new ImageData(regionPixels(bytes, grid, colours, size, discrete), size, size), 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (boundary) drawBoundary(ctx, bytes, grid, colours.length, canvas.width, canvas.height);
}

// The decision boundary by marching squares over the cell centres: for two classes the
// P(class 1) = 0.5 contour; for K > 2, for each class the contour where its probability equals
// the largest of the others' (where it stops being the likeliest). One path, stroked once.
function drawBoundary(ctx, bytes, grid, k, width, height) {
  const probs = probabilities(bytes, grid, k);
  ctx.strokeStyle = "rgba(0,0,0,0.75)";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  if (k === 2) {
    contour(ctx, (r, c) => probs[2 * (r * grid + c) + 1] - 0.5, grid, width, height);
  } else {
    for (let j = 0; j < k; j++) {
      contour(ctx, (r, c) => {
        const i = k * (r * grid + c);
        let other = 0;
        for (let o = 0; o < k; o++) if (o !== j && probs[i + o] > other) other = probs[i + o];
        return probs[i + j] - other;
      }, grid, width, height);
    }
  }
  ctx.stroke();
}

// The zero contour of v(row, column) as line segments added to the current path; cell centres
// sit at (c + 0.5, r + 0.5) and each crossing is interpolated along its edge.
function contour(ctx, v, grid, width, height) {
  const sx = width / grid, sy = height / grid;
  const values = new Float32Array(grid * grid);
  for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) values[r * grid + c] = v(r, c);
  const at = (r0, c0, r1, c1) => {
    const a = values[r0 * grid + c0], b = values[r1 * grid + c1];
    const t = a === b ? 0.5 : a / (a - b);
    return [(c0 + 0.5 + t * (c1 - c0)) * sx, (r0 + 0.5 + t * (r1 - r0)) * sy];
  };
  for (let r = 0; r < grid - 1; r++) {
    for (let c = 0; c < grid - 1; c++) {
      const crossings = [];
      const edges = [[r, c, r, c + 1], [r, c + 1, r + 1, c + 1], [r + 1, c + 1, r + 1, c], [r + 1, c, r, c]];
      for (const [r0, c0, r1, c1] of edges) {
        if ((values[r0 * grid + c0] >= 0) !== (values[r1 * grid + c1] >= 0)) crossings.push(at(r0, c0, r1, c1));
      }
      for (let i = 0; i + 1 < crossings.length; i += 2) {
        ctx.moveTo(...crossings[i]);
        ctx.lineTo(...crossings[i + 1]);
      }
    }
  }
}

// Data coordinates <-> canvas pixels for an extent [[x0, x1], [y0, y1]] (y up).
export function toPixel(extent, canvas, x, y) {
  const [[x0, x1], [y0, y1]] = extent;
  return [((x - x0) / (x1 - x0)) * canvas.width, ((y1 - y) / (y1 - y0)) * canvas.height];
}

export function toData(extent, canvas, px, py) {
  const [[x0, x1], [y0, y1]] = extent;
  return [x0 + (px / canvas.width) * (x1 - x0), y1 - (py / canvas.height) * (y1 - y0)];
}

// Training points: filled dots with a white rim; validation points: hollow squares, unless
// `showTest` is false.
export function drawPoints(canvas, data, showTest = true) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const n = data.points.length;
  const radius = n > 1500 ? 2.5 : 4;
  for (let i = 0; i < (showTest ? n : data.n_train); i++) {
    const [px, py] = toPixel(data.extent, canvas, data.points[i][0], data.points[i][1]);
    const colour = data.colours[data.labels[i]];
    if (i < data.n_train) {
      ctx.beginPath();
      ctx.arc(px, py, radius, 0, 2 * Math.PI);
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#fff";
      ctx.stroke();
    } else {
      ctx.lineWidth = 1.8;
      ctx.strokeStyle = colour;
      ctx.strokeRect(px - radius, py - radius, 2 * radius, 2 * radius);
    }
  }
}

// The index (into data.points) of the point nearest to a pixel, within `reach` pixels; or -1.
export function nearestPoint(canvas, data, px, py, reach = 10, showTest = true) {
  let best = -1, bestDistance = reach * reach;
  (showTest ? data.points : data.points.slice(0, data.n_train)).forEach(([x, y], i) => {
    const [qx, qy] = toPixel(data.extent, canvas, x, y);
    const d = (qx - px) ** 2 + (qy - py) ** 2;
    if (d <= bestDistance) { best = i; bestDistance = d; }
  });
  return best;
}
