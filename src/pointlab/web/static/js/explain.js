// "Step and explain", laid out for reading: the stages of `pointlab explain`'s report (forward,
// loss, backward with the chain-rule product, one weight followed, the update, the loss after,
// the gradient check) from the trace the server sends (`StepTrace.to_dict()`, pointlab.autodiff),
// with the numbers of the current model. Equations and the factors' meanings are the trace's own
// (English) text; the page's words around them come from the language files.
import { t } from "./i18n.js";

const g = (v, digits = 4) => (v === null || v === undefined ? "–" : Number(v).toPrecision(digits));
const e = (v) => (v === null || v === undefined ? "–" : Number(v).toExponential(1));
const shape = (s) => (s && s.length ? `(${s.join(", ")})` : t("explain.scalar"));

function el(tag, text, attributes = {}) {
  const out = document.createElement(tag);
  if (text !== undefined && text !== null) out.textContent = text;
  for (const [k, v] of Object.entries(attributes)) out.setAttribute(k, v);
  return out;
}

function code(text) {
  return el("code", text);
}

// A table from a header row and rows of cells (text, or a node to put in the cell).
function table(header, rows) {
  const out = el("table", null, { class: "explain-table" });
  const head = el("tr");
  for (const h of header) head.append(el("th", h));
  out.append(head);
  for (const row of rows) {
    const tr = el("tr");
    for (const cell of row) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell;
      tr.append(td);
    }
    out.append(tr);
  }
  return out;
}

function paragraph(...parts) {
  const p = el("p");
  for (const part of parts) p.append(part instanceof Node ? part : document.createTextNode(part));
  return p;
}

function sampleText(numbers) {
  const rows = numbers.sample.length && Array.isArray(numbers.sample[0]) ? numbers.sample : [numbers.sample];
  return rows.slice(0, 2).map((row) => `[${row.map((v) => g(v, 3)).join(", ")}${numbers.shape[numbers.shape.length - 1] > row.length ? ", …" : ""}]`).join(" ");
}

export function renderExplain(container, trace) {
  container.replaceChildren();
  const hyper = Object.entries(trace.hyperparameters).map(([k, v]) => `${k} ${v}`).join(", ");
  container.append(paragraph(t("explain.intro", {
    model: trace.model, step: trace.step, n: trace.n_points, optimizer: trace.optimizer, hyper,
  })));
  container.append(paragraph(t("explain.stages")));
  if (trace.notes.length) {
    const list = el("ul", null, { class: "notes" });
    for (const note of trace.notes) list.append(el("li", note));
    container.append(list);
  }

  const relu = trace.activation === "relu";
  container.append(el("h3", t("explain.forward")));
  container.append(paragraph(t("explain.forward.text", { activation: trace.activation })));
  container.append(table(
    [t("explain.layer"), t("explain.computes"), "W", "z", t("explain.first-z"), t("explain.range"), ...(relu ? [t("explain.off")] : [])],
    trace.forward.map((f) => [
      String(f.layer), code(f.equations.join("   ")), shape(f.weight.shape), shape(f.z.shape),
      sampleText(f.z), `${g(f.z.min, 3)} … ${g(f.z.max, 3)}`,
      ...(relu ? [f.inactive === null ? t("explain.output-layer") : `${Math.round(100 * f.inactive)}%`] : []),
    ]),
  ));

  container.append(el("h3", t("explain.loss")));
  container.append(paragraph(code(trace.loss_formula)));
  container.append(paragraph(t("explain.loss.before", { loss: g(trace.loss_before, 6), acc: (100 * trace.accuracy_before).toFixed(1) })));

  container.append(el("h3", t("explain.backward")));
  container.append(paragraph(t("explain.backward.text")));
  const rows = [];
  for (const b of trace.backward) {
    rows.push([String(b.layer), code(b.dz_equation), `dL/dz${b.layer} ${shape(b.dz.shape)}`, g(b.dz.norm, 3)]);
    rows.push(["", code(b.dW_equation), `dL/dW${b.layer} ${shape(b.dW.shape)}`, g(b.dW.norm, 3)]);
    rows.push(["", code(b.db_equation), `dL/db${b.layer} ${shape(b.db.shape)}`, g(b.db.norm, 3)]);
    if (b.dh_equation && b.dh) rows.push(["", code(b.dh_equation), `dL/dh${b.layer - 1} ${shape(b.dh.shape)}`, g(b.dh.norm, 3)]);
  }
  container.append(table([t("explain.layer"), t("explain.chain"), t("explain.result"), t("explain.size")], rows));

  const w = trace.trace;
  const name = `${w.parameter}[${w.row}, ${w.col}]`;
  container.append(el("h4", t("explain.followed", { name })));
  container.append(paragraph(t("explain.followed.text", {
    name, value: g(w.value_before, 6), n: trace.n_points, paths: w.n_paths, point: w.point,
    x: g(w.point_xy[0], 3), y: g(w.point_xy[1], 3), label: w.point_label, path: [...w.path].reverse().join(" → "),
  })));
  container.append(table(
    [t("explain.factor"), t("explain.meaning"), t("explain.value")],
    [...w.factors.map((f) => [code(f.symbol), f.meaning, g(f.value, 6)]), [t("explain.product"), t("explain.product.text"), g(w.path_product, 6)]],
  ));
  container.append(paragraph(t("explain.sum", { n: trace.n_points, sum: g(w.sum_of_shares, 6), gradient: g(w.gradient, 6), name })));

  container.append(el("h3", t("explain.update")));
  container.append(paragraph(t("explain.update.text", { optimizer: trace.optimizer, name })));
  container.append(table([t("explain.term"), t("explain.computed-as"), t("explain.value")], w.update.map((u) => [u.name, code(u.formula), g(u.value, 6)])));
  container.append(table(
    [t("explain.layer"), t("explain.w-norm"), t("explain.step-norm"), t("explain.ratio"), t("explain.max-step")],
    trace.updates.map((u) => [String(u.layer), g(u.weight_norm), g(u.step_norm, 3), e(u.ratio), g(u.max_step, 3)]),
  ));

  container.append(el("h3", t("explain.after")));
  const change = trace.loss_after - trace.loss_before;
  container.append(paragraph(t("explain.after.text", {
    loss: g(trace.loss_after, 6), acc: (100 * trace.accuracy_after).toFixed(1),
    change: (change >= 0 ? "+" : "") + g(change, 4), predicted: (trace.predicted_change >= 0 ? "+" : "") + g(trace.predicted_change, 4),
  })));

  container.append(el("h3", t("explain.check")));
  container.append(paragraph(t("explain.check.text", { n: trace.check.length, h: trace.check_step })));
  container.append(table(
    [t("explain.weight"), t("explain.backward-value"), t("explain.numeric"), t("explain.rel-error")],
    trace.check.map((r) => [
      `${r.parameter}[${r.index.join(", ")}]`, g(r.backward, 10), g(r.numeric, 10),
      e(r.rel_error) + (r.crosses_kink ? ` ${t("explain.kink")}` : ""),
    ]),
  ));
  const result = paragraph(t("explain.check.result") + " ");
  result.append(el("strong", e(trace.max_rel_error), { "data-testid": "grad-check" }));
  result.append(document.createTextNode(" " + t(trace.max_rel_error < 1e-6 ? "explain.check.agree" : "explain.check.disagree")));
  container.append(result);
}
