// The main member's learning curves: the history rows that frames bring, gathered per member,
// and the loss and accuracy charts drawn from them. Used by the page (main.js) and by the
// notebook widget (pointlab.widget), so both draw the same curves.
import { drawChart } from "./charts.js";
import { t } from "./i18n.js";

export function emptyHistory() {
  return { epoch: [], train_loss: [], train_acc: [], val_loss: [], val_acc: [] };
}

// The history after frame `f` (`previous`: the frame before it, or null): a frame at epoch 0 or
// earlier than the last one (a reset, a new setup) starts every member's history afresh.
export function addRows(history, previous, f) {
  if (f.epoch === 0 || (previous && f.epoch < previous.epoch)) history = history.map(() => emptyHistory());
  f.rows.forEach((rows, m) => {
    for (const key of Object.keys(rows)) history[m]?.[key].push(...rows[key]);
  });
  return history;
}

// Loss (log scale) and accuracy of the frame's main member, train and validation, up to now.
export function drawCurves(lossCanvas, accCanvas, history, f) {
  const m = f.main, h = history[m];
  const xs = [...h.epoch, f.epoch];
  const train = t("numbers.train"), validation = t("numbers.validation");
  drawChart(lossCanvas, [
    { x: xs, y: [...h.train_loss, f.now.train_loss[m]], colour: "#1f77b4", label: train },
    { x: xs, y: [...h.val_loss, f.now.val_loss[m]], colour: "#ff7f0e", label: validation },
  ], { log: true, title: t("numbers.loss"), epochLabel: t("epoch") });
  drawChart(accCanvas, [
    { x: xs, y: [...h.train_acc, f.now.train_acc[m]], colour: "#1f77b4", label: train },
    { x: xs, y: [...h.val_acc, f.now.val_acc[m]], colour: "#ff7f0e", label: validation },
  ], { yMin: 0, yMax: 1, title: t("numbers.accuracy"), epochLabel: t("epoch") });
}
