// Line charts on a canvas: several series of (x, y), optional log scale, a small legend.

export function drawChart(canvas, series, { log = false, yMin = null, yMax = null, title = "", epochLabel = "epoch" } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const right = 8, top = 16, bottom = 18;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const f = (y) => (log ? Math.log10(Math.max(y, 1e-8)) : y);
  let x1 = 1, lo = Infinity, hi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i];
      if (y === null || !Number.isFinite(y)) continue;
      x1 = Math.max(x1, s.x[i]);
      lo = Math.min(lo, f(y));
      hi = Math.max(hi, f(y));
    }
  }
  if (yMin !== null) lo = f(yMin);
  if (yMax !== null) hi = f(yMax);
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  ctx.font = "11px system-ui, sans-serif";
  const ticks = [lo, (lo + hi) / 2, hi].map((t) => (log ? 10 ** t : t));
  // Two significant digits, more when a narrow range (the first epochs) would print one label thrice.
  let digits = 2;
  while (digits < 5 && new Set(ticks.map((v) => v.toPrecision(digits))).size < ticks.length) digits++;
  const labels = ticks.map((v) => v.toPrecision(digits));
  // The plot starts right of its widest label, so "0.69826" is not cut at the canvas's edge.
  const left = Math.max(46, Math.ceil(Math.max(...labels.map((t) => ctx.measureText(t).width))) + 8);
  const X = (x) => left + (x / x1) * (W - left - right);
  const Y = (y) => top + (1 - (f(y) - lo) / (hi - lo)) * (H - top - bottom);
  ctx.strokeStyle = "#ccc";
  ctx.lineWidth = 1;
  ctx.strokeRect(left, top, W - left - right, H - top - bottom);
  ctx.fillStyle = "#555";
  ctx.textAlign = "right";
  ticks.forEach((value, i) => ctx.fillText(labels[i], left - 4, Y(value) + 4));
  ctx.textAlign = "left";
  ctx.fillText(title, left + 4, 12);
  ctx.textAlign = "right";
  ctx.fillText(`${epochLabel} ${Math.round(x1)}`, W - right, H - 4);
  let legendX = left + 8 + ctx.measureText(title).width + 12;
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = s.width || 1.5;
    ctx.globalAlpha = s.alpha ?? 1;
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i];
      if (y === null || !Number.isFinite(y)) { started = false; continue; }
      if (started) ctx.lineTo(X(s.x[i]), Y(y));
      else { ctx.moveTo(X(s.x[i]), Y(y)); started = true; }
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    if (s.label) {
      ctx.fillStyle = s.colour;
      ctx.textAlign = "left";
      ctx.fillText(s.label, legendX, 12);
      legendX += ctx.measureText(s.label).width + 12;
    }
  }
}
