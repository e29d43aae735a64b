// The plane: decision regions (with the 0.5 boundary) on one canvas, the points on another.
// Regions arrive as bytes over a G x G grid, row 0 at the top: P(class 1) * 255 for two classes,
// or (likeliest class, its probability * 255) pairs for K > 2.

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

// RGBA pixels (G*G*4) of the regions: paler where the model is less sure.
export function regionPixels(bytes, grid, colours) {
  const rgb = colours.map(hexToRgb);
  const out = new Uint8ClampedArray(grid * grid * 4);
  const k = colours.length;
  for (let i = 0; i < grid * grid; i++) {
    let colour, strength;
    if (k === 2) {
      const p = bytes[i] / 255;
      colour = p >= 0.5 ? rgb[1] : rgb[0];
      strength = Math.abs(p - 0.5) * 2; // 0 on the boundary, 1 when sure
    } else {
      colour = rgb[bytes[2 * i]] || [128, 128, 128];
      const p = bytes[2 * i + 1] / 255;
      strength = Math.max(0, (p - 1 / k) / (1 - 1 / k));
    }
    const a = 0.12 + 0.5 * strength; // mix with white
    for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round(255 * (1 - a) + colour[c] * a);
    out[4 * i + 3] = 255;
  }
  return out;
}

// Draw regions bytes onto a canvas, scaled smoothly from the grid to the canvas size.
export function drawRegions(canvas, bytes, grid, colours, boundary = true) {
  const ctx = canvas.getContext("2d");
  const small = document.createElement("canvas");
  small.width = small.height = grid;
  small.getContext("2d").putImageData(new ImageData(regionPixels(bytes, grid, colours), grid, grid), 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (boundary) drawBoundary(ctx, bytes, grid, colours.length, canvas.width, canvas.height);
}

// The 0.5 contour by marching squares (two classes), or the edges where the likeliest class
// changes (K > 2).
function drawBoundary(ctx, bytes, grid, k, width, height) {
  const sx = width / grid, sy = height / grid;
  ctx.strokeStyle = "rgba(0,0,0,0.75)";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  if (k === 2) {
    const v = (r, c) => bytes[r * grid + c] / 255 - 0.5;
    // Cell centres sit at (c + 0.5, r + 0.5); interpolate the crossing on each edge.
    const at = (r0, c0, r1, c1) => {
      const a = v(r0, c0), b = v(r1, c1);
      const t = a === b ? 0.5 : a / (a - b);
      return [(c0 + 0.5 + t * (c1 - c0)) * sx, (r0 + 0.5 + t * (r1 - r0)) * sy];
    };
    for (let r = 0; r < grid - 1; r++) {
      for (let c = 0; c < grid - 1; c++) {
        const crossings = [];
        const edges = [[r, c, r, c + 1], [r, c + 1, r + 1, c + 1], [r + 1, c + 1, r + 1, c], [r + 1, c, r, c]];
        for (const [r0, c0, r1, c1] of edges) {
          if ((v(r0, c0) >= 0) !== (v(r1, c1) >= 0)) crossings.push(at(r0, c0, r1, c1));
        }
        for (let i = 0; i + 1 < crossings.length; i += 2) {
          ctx.moveTo(...crossings[i]);
          ctx.lineTo(...crossings[i + 1]);
        }
      }
    }
  } else {
    const cls = (r, c) => bytes[2 * (r * grid + c)];
    for (let r = 0; r < grid; r++) {
      for (let c = 0; c < grid; c++) {
        if (c + 1 < grid && cls(r, c) !== cls(r, c + 1)) {
          ctx.moveTo((c + 1) * sx, r * sy);
          ctx.lineTo((c + 1) * sx, (r + 1) * sy);
        }
        if (r + 1 < grid && cls(r, c) !== cls(r + 1, c)) {
          ctx.moveTo(c * sx, (r + 1) * sy);
          ctx.lineTo((c + 1) * sx, (r + 1) * sy);
        }
      }
    }
  }
  ctx.stroke();
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

// Training points: filled dots with a white rim; validation points: hollow squares.
export function drawPoints(canvas, data) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const n = data.points.length;
  const radius = n > 1500 ? 2.5 : 4;
  for (let i = 0; i < n; i++) {
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
export function nearestPoint(canvas, data, px, py, reach = 10) {
  let best = -1, bestDistance = reach * reach;
  data.points.forEach(([x, y], i) => {
    const [qx, qy] = toPixel(data.extent, canvas, x, y);
    const d = (qx - px) ** 2 + (qy - py) ** 2;
    if (d <= bestDistance) { best = i; bestDistance = d; }
  });
  return best;
}
