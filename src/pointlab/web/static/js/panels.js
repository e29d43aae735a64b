// The population's small multiples and validation curves.
import { drawChart } from "./charts.js";
import { t } from "./i18n.js";
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
    label.textContent = `#${rank + 1} ${data.members[m] || t("population.member", { m })} · ${loss === null ? t("status.diverged") : loss.toFixed(3)}`;
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
  drawChart(canvas, series, { log: true, title: t(hasVal ? "population.curves.val" : "population.curves.train"), epochLabel: t("epoch") });
}
