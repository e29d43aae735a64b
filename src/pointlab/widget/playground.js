// pointlab's playground in a notebook: the front end of pointlab.widget.Playground (anywidget).
// The kernel trains (the page's session, pointlab/web/session.py, on the engine); this draws what
// it sends with the page's own modules and sends the controls back. bundle.py loads this file as
// if it lay beside the page's modules in pointlab/web/static/js, so "./plane.js" is the page's.
//
// Synced traits: settings (the page's settings, as its link writes them; the kernel answers a
// change with the normalized set), epoch, status, error. Custom messages from the kernel are the
// page's WebSocket messages (ready, frame, error); to the kernel: {type: play | pause | step |
// reset}, {type: "select", member} (compare mode: the main model), and {type: "hello"} when a
// view opens (the kernel sends it the current state).
import { addRows, drawCurves, emptyHistory } from "./curves.js";
import { t, useStrings } from "./i18n.js";
import { createDiagram, drawNode, nodeName } from "./network.js";
import { drawAllCurves, drawMembers } from "./panels.js";
import { decode, drawPoints, drawRegions } from "./plane.js";
import { fillForm, readForm } from "./settings.js";

// The settings the widget's form shows: [key, label key, kind]; a choice's values come from the
// kernel (the `choices` trait: the server's own lists).
const FIELDS = [
  ["data", "data.set", "choice"],
  ["points", "data.points", "number"],
  ["classes", "data.classes", "number"],
  ["noise", "data.noise", "number"],
  ["layers", "model.hidden", "text"],
  ["features", "model.features", "text"],
  ["activation", "model.activation", "choice"],
  ["optimizer", "model.optimizer", "choice"],
  ["lr", "model.lr", "number"],
  ["batch-size", "model.batch-size", "text"],
  ["epochs", "model.epochs", "number"],
  ["seed", "model.seed", "number"],
  ["compare", "compare.vary", "text"],
];
const OPTION_KEYS = { data: "data.", activation: "act.", optimizer: "opt." }; // option words

function element(tag, props = {}, ...children) {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}

function canvas(width, height, testid) {
  const c = element("canvas", { width, height });
  c.dataset.testid = testid;
  return c;
}

function setupForm(choices) {
  const form = element("form", { className: "pl-setup" });
  form.addEventListener("submit", (event) => event.preventDefault());
  for (const [key, label, kind] of FIELDS) {
    let field;
    if (kind === "choice") {
      const words = (value) => {
        const word = t(OPTION_KEYS[key] + value);
        return word === OPTION_KEYS[key] + value ? value : word; // a book file: its name
      };
      field = element("select", {}, ...(choices[key] || []).map((v) => new Option(words(v), v)));
    } else {
      field = element("input", { type: "text", size: 8 });
    }
    field.name = key;
    field.dataset.testid = `setting-${key}`;
    form.append(element("label", {}, element("span", { textContent: t(label) }), field));
  }
  return form;
}

function render({ model, el }) {
  useStrings(model.get("strings"));
  const view = { data: null, frame: null, history: [], diagram: null };
  const button = (name) => {
    const b = element("button", { textContent: t(`button.${name}`), title: t(`button.${name}.title`) });
    b.dataset.testid = name;
    b.addEventListener("click", () => model.send({ type: name }));
    return b;
  };
  const epoch = element("span", { textContent: "0" }), total = element("span", { textContent: "0" });
  const status = element("span", { className: "pl-muted" });
  epoch.dataset.testid = "epoch";
  status.dataset.testid = "status";
  const error = element("div", { className: "pl-error", role: "alert" });
  error.dataset.testid = "error";
  const bar = element(
    "div", { className: "pl-bar" },
    button("reset"), button("play"), button("pause"), button("step"),
    element("span", { className: "pl-counter" }, `${t("epoch")} `, epoch, " / ", total, " · ", status),
  );
  const form = setupForm(model.get("choices"));
  const boundary = canvas(360, 360, "boundary"), points = canvas(360, 360, "points");
  const caption = element("div", { className: "pl-caption", hidden: true });
  caption.dataset.testid = "plane-caption";
  const plane = element("div", { className: "pl-plane" }, boundary, points, caption);
  const loss = canvas(360, 150, "loss-chart"), acc = canvas(360, 150, "acc-chart");
  const net = canvas(360, 300, "diagram");
  const details = element("div", { className: "pl-details" });
  // Compare mode: every member's small picture, ranked (click one: the main model), and curves.
  const members = element("div", { className: "pl-members" }), all = canvas(720, 160, "curves-chart");
  members.dataset.testid = "members";
  const population = element("div", { className: "pl-population", hidden: true }, members, all);
  const diagram = createDiagram(net, details, { onHover: () => drawPlane() });
  el.classList.add("pointlab-playground");
  el.append(
    bar, error,
    element("div", { className: "pl-main" },
      form, plane,
      element("div", { className: "pl-side" }, loss, acc),
      element("div", { className: "pl-net" }, net, details)),
    population,
  );

  // The form shows the settings the kernel accepted; a change sends the whole form.
  const show = () => fillForm(form, model.get("settings"));
  form.addEventListener("change", () => {
    model.set("settings", { ...model.get("settings"), ...readForm(form) });
    model.save_changes();
  });
  model.on("change:settings", show);
  const showError = () => { error.textContent = model.get("error"); };
  model.on("change:error", showError);
  show();
  showError();

  function ready(data) {
    const reset = !view.data || data.members.length !== view.data.members.length || !view.frame;
    view.data = data;
    total.textContent = data.epochs;
    if (reset) view.history = data.members.map(() => emptyHistory());
    drawPoints(points, data);
    population.hidden = data.members.length < 2;
    members.replaceChildren();
  }

  function frame(f) {
    if (!view.data) return;
    view.history = addRows(view.history, view.frame, f);
    view.frame = f;
    epoch.textContent = f.epoch;
    status.textContent = t(`status.${f.status}`);
    if (f.diagram) view.diagram = f.diagram;
    drawPlane();
    drawCurves(loss, acc, view.history, f);
    diagram.update(f.diagram, f, view.data);
    if (view.data.members.length > 1) {
      drawMembers(members, f, view.data, view.history, (member) => model.send({ type: "select", member }));
      drawAllCurves(all, view.history, f, view.data);
    }
  }

  // anywidget swallows what a message handler throws: say it in the widget and the console.
  // The big plane, as the page draws it: the main model's regions, or the map of the unit
  // under the pointer in the diagram.
  function drawPlane() {
    const hover = diagram.hovered(), f = view.frame;
    if (!f) return;
    caption.hidden = !(hover && view.diagram && hover.kind !== "output");
    if (!caption.hidden) {
      drawNode(boundary, hover, view.diagram, f, view.data);
      caption.textContent = t("net.showing", { name: nodeName(hover, view.data) });
    } else {
      drawRegions(boundary, decode(f.regions), f.grid, view.data.colours);
    }
  }

  const receive = (message) => {
    try {
      if (message.type === "ready") ready(message);
      else if (message.type === "frame") frame(message);
    } catch (failure) {
      error.textContent = `pointlab widget: ${failure}`;
      console.error("pointlab widget", failure);
    }
  };
  model.on("msg:custom", receive);
  model.send({ type: "hello" });
  return () => model.off("msg:custom", receive);
}

export default { render };
