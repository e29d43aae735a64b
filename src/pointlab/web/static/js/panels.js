// The population's small multiples and validation curves.
import { drawChart } from "./charts.js";
import { t } from "./i18n.js";
import { decode, drawRegions } from "./plane.js";

// Members ordered by validation loss (training loss without validation), best first.
export function ranking(now) {
  return rankBy(now.val_loss.some((v) => v !== null) ? now.val_loss : now.train_loss);
}

// Indices of `values`, smallest first; null (a diverged member) last. The Generate mode ranks
// its members' distances with it.
export function rankBy(values) {
  return values.map((v, i) => [v === null ? Infinity : v, i]).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
}

// One tile (a size x size canvas and a label) per member, in `order`; a click on one calls
// onSelect(m). Tiles are kept between frames and re-appended in rank order; those of members
// past the population go. `draw(canvas, label, m, rank)` fills one. Both modes' small multiples.
export function drawTiles(container, order, { testid, size, main, onSelect, draw }) {
  const existing = new Map([...container.children].map((el) => [Number(el.dataset.member), el]));
  order.forEach((m, rank) => {
    let el = existing.get(m);
    if (!el) {
      el = document.createElement("div");
      el.className = "member";
      el.dataset.member = m;
      el.dataset.testid = testid;
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = size;
      el.append(canvas, document.createElement("span"));
      el.addEventListener("click", () => onSelect(m));
    }
    const [canvas, label] = el.children;
    draw(canvas, label, m, rank);
    el.classList.toggle("main", m === main);
    container.append(el); // re-appending moves it into rank order
  });
  for (const [m, el] of existing) if (m >= order.length) el.remove();
}

// `discrete`: each class in one flat colour ("discretize output").
export function drawMembers(container, frame, data, history, onSelect, discrete = false) {
  drawTiles(container, ranking(frame.now), {
    testid: "member",
    size: 96,
    main: frame.main,
    onSelect,
    draw: (canvas, label, m, rank) => {
      if (frame.thumbs) drawRegions(canvas, decode(frame.thumbs[m]), frame.thumb_grid, data.colours, true, discrete);
      const loss = frame.now.val_loss[m] ?? frame.now.train_loss[m];
      label.textContent = `#${rank + 1} ${data.members[m] || t("population.member", { m })} · ${loss === null ? t("status.diverged") : loss.toFixed(3)}`;
    },
  });
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
  drawChart(canvas, series, { log: true, title: t(hasVal ? "population.curves.val" : "population.curves.train"), epochLabel: t("epoch") });
}
