// Lessons in the page: the index, one lesson's tasks, Check over seeds, and progress kept in the
// browser. The server reads the lesson files (web/lessons.py) and sends each text in every
// language; this shows them in the page's language. Opening a lesson applies its setup through
// the page's own setup path, shows only the controls the lesson names and locks its `lock`.
// Progress (tasks done, predictions, explanations revealed, the task open) is kept per lesson in
// localStorage under "pointlab.lesson.NAME".
import { language, t } from "./i18n.js";

// Numbers as the page's language writes them (a point for the decimals in en and ja).
const fmt = (value, digits) => Number(value).toLocaleString(language(), { maximumFractionDigits: digits });

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
const CLAUSE = /^\s*([a-z_]+)\s*(<=|>=|==|<|>)\s*(\S+)\s*$/;
const OPS = { "<=": "≤", ">=": "≥", "==": "=", "<": "<", ">": ">" };
const MET = (v) => v.met >= Math.max(1, v.total - 1); // 4 of 5 seeds: the goal is met

// hooks: send(message); form (the element holding the settings' fields); setup(settings), the
// page's setup path; settings(), the settings training now; changed(), a lesson was opened or
// closed (the link follows).
export function createLessons(hooks) {
  const lessons = { index: null, lesson: null, task: 0, verdicts: {}, checking: false, pending: null, link: {} };
  const panel = $("lesson-panel");

  function text(value) {
    return value ? value[language()] ?? value.en : "";
  }
  // A file's paragraphs: blank lines between them; a line break inside one is a space, or
  // nothing between two Japanese characters.
  function paragraphs(value) {
    return text(value)
      .split(/\n\s*\n/)
      .map((para) => el("p", {}, para.replace(/([^\x00-\x7f])\n([^\x00-\x7f])/g, "$1$2").replace(/\s*\n\s*/g, " ")));
  }
  function load(name) {
    try {
      return JSON.parse(localStorage.getItem(`pointlab.lesson.${name}`)) || {};
    } catch {
      return {};
    }
  }
  function progress() {
    const p = load(lessons.lesson.name);
    return { done: {}, predictions: {}, revealed: {}, task: 0, ...p };
  }
  function save(p) {
    try {
      localStorage.setItem(`pointlab.lesson.${lessons.lesson.name}`, JSON.stringify(p));
    } catch {
      /* private browsing: progress lives only as long as the page */
    }
  }

  // --- messages ---------------------------------------------------------------------------
  function receive(message) {
    if (message.type === "lessons") {
      lessons.index = message;
      render();
    } else if (message.type === "lesson") {
      opened(message);
    } else if (message.type === "checked") {
      lessons.checking = false;
      if (!lessons.lesson || message.lesson !== lessons.lesson.name) return true; // closed since
      lessons.verdicts[message.task] = message;
      const task = lessons.lesson.tasks.find((x) => x.name === message.task);
      const p = progress();
      if (MET(message)) p.done[message.task] = true;
      if (task && task.question && p.predictions[task.name] !== undefined) p.revealed[`${task.name}.answer`] = true;
      save(p);
      render();
    } else {
      return false;
    }
    return true;
  }

  // An error from the server: true when it answers the lesson being opened (a link's unknown
  // name), which the page then shows as it is; a Check's error ends the Check.
  function failed(text) {
    if (lessons.pending && /^(no lesson |lesson: )/.test(text)) {
      lessons.pending = null;
      panel.hidden = true;
      hooks.changed();
      return true;
    }
    if (lessons.checking) {
      lessons.checking = false;
      render();
    }
    return false;
  }

  function connected() {
    if (lessons.pending) hooks.send({ type: "lesson", name: lessons.pending });
    else if (!panel.hidden) hooks.send({ type: "lessons" });
  }

  // --- the index ----------------------------------------------------------------------------
  function toggleIndex() {
    if (!panel.hidden && !lessons.lesson) {
      panel.hidden = true;
      return;
    }
    close(false);
    panel.hidden = false;
    hooks.send({ type: "lessons" });
    render();
  }

  // `link`: the settings a lesson link carried besides lesson= (a learner's own setup), kept
  // over the lesson's setup except where the lesson locks them.
  function open(name, link = {}) {
    lessons.pending = name;
    lessons.link = link;
    hooks.send({ type: "lesson", name });
  }

  function opened(lesson) {
    const link = lessons.link;
    lessons.lesson = lesson;
    lessons.pending = null;
    lessons.link = {};
    lessons.verdicts = {};
    const p = progress();
    lessons.task = Math.min(p.task || 0, lesson.tasks.length - 1);
    panel.hidden = false;
    const locked = Object.fromEntries(lesson.lock.filter((k) => k in lesson.setup).map((k) => [k, lesson.setup[k]]));
    hooks.setup({ ...lesson.setup, ...link, ...locked });
    controls();
    hooks.changed();
    render();
    panel.scrollIntoView({ block: "start" });
  }

  function close(hide = true) {
    lessons.lesson = null;
    lessons.verdicts = {};
    controls();
    if (hide) panel.hidden = true;
    hooks.changed();
  }

  // The controls the lesson names are shown (all when it names none), its `lock` disabled.
  function controls() {
    const lesson = lessons.lesson;
    const shown = lesson && lesson.show.length ? new Set(lesson.show) : null;
    const locked = new Set(lesson ? lesson.lock : []);
    for (const field of hooks.form.querySelectorAll("[name]")) {
      const box = field.closest("label") || field.closest(".layers");
      if (box) box.hidden = shown !== null && !shown.has(field.name);
      field.disabled = locked.has(field.name);
    }
    for (const button of document.querySelectorAll("#add-layer, #remove-layer, #widths input")) {
      button.disabled = locked.has("layers");
    }
    for (const id of ["upload-box", "compare-box"]) {
      const box = $(id);
      if (box) box.hidden = shown !== null;
    }
  }

  // --- one lesson -----------------------------------------------------------------------------
  function goalText(goal) {
    return goal
      .split(/\s+and\s+/)
      .map((clause) => {
        const m = CLAUSE.exec(clause);
        if (!m) return clause;
        return `${t(`measure.${m[1]}`)} ${OPS[m[2]]} ${fmtValue(m[1], Number(m[3]))}`;
      })
      .join(t("lesson.and"));
  }
  function target(clause) {
    const m = CLAUSE.exec(clause);
    return m ? `${OPS[m[2]]} ${fmtValue(m[1], Number(m[3]))}` : clause;
  }
  function fmtValue(name, value) {
    if (value === null || value === undefined || Number.isNaN(value)) return t("lesson.nan");
    if (/_acc$|^gap$/.test(name)) return `${fmt(value * 100, 2)}%`; // 89.99% is not 90%
    return fmt(value, 4);
  }

  function check() {
    const task = lessons.lesson.tasks[lessons.task];
    lessons.checking = true;
    delete lessons.verdicts[task.name];
    hooks.send({ type: "check", lesson: lessons.lesson.name, task: task.name, settings: hooks.settings() });
    render();
  }

  function verdictView(task) {
    const v = lessons.verdicts[task.name];
    if (lessons.checking) return el("p", { class: "verdict checking", "data-testid": "verdict" }, t("lesson.checking", { n: task.seeds }));
    if (!v) return null;
    const seeds = v.seeds.map((s) =>
      el(
        "li",
        { class: s.met ? "seed met" : "seed missed" },
        el("span", { class: "tick" }, s.met ? "✓" : "✗"),
        ` ${t("lesson.seed", { seed: s.seed })}`,
        s.met
          ? el(
              "span",
              { class: "muted" },
              ": " + Object.entries(s.values || {}).map(([name, value]) => `${t(`measure.${name}`)} ${fmtValue(name, value)}`).join(", "),
            )
          : el(
              "span",
              { class: "muted" },
              ": " +
                (s.status === "diverged"
                  ? t("lesson.diverged")
                  : s.failed
                      .map((f) => t("lesson.missed", { what: t(`measure.${f.name}`), value: fmtValue(f.name, f.measured), target: target(f.clause) }))
                      .join("; ")),
            ),
      ),
    );
    return el(
      "div",
      { class: `verdict ${MET(v) ? "good" : "bad"}`, "data-testid": "verdict" },
      el("strong", {}, t("lesson.verdict", { met: v.met, total: v.total })),
      el("span", { class: "muted" }, " " + t("lesson.seconds", { s: fmt(Math.max(v.seconds, 0.1), 1) })),
      el("ul", { class: "seeds", "data-testid": "seeds" }, ...seeds),
    );
  }

  function taskView(task, number) {
    const p = progress();
    const v = lessons.verdicts[task.name];
    const explained = p.revealed[task.name] || p.done[task.name] || (v && MET(v));
    const q = task.question;
    let question = null;
    if (q) {
      const picked = p.predictions[task.name];
      const answered = picked !== undefined && (v || p.revealed[task.name] || p.revealed[`${task.name}.answer`]);
      const choices = q.choices.map((choice, i) =>
        el(
          "label",
          { class: "choice" },
          (() => {
            const input = el("input", { type: "radio", value: String(i), "data-testid": `choice-${i + 1}` });
            // No name: the form's settings are every [name] of the page (settings.js readForm).
            input.checked = picked === i;
            input.disabled = Boolean(answered);
            input.addEventListener("change", () => {
              const now = progress();
              now.predictions[task.name] = i;
              save(now);
              render();
            });
            return input;
          })(),
          el("span", {}, text(choice)),
        ),
      );
      question = el(
        "div",
        { class: "question", "data-testid": "question" },
        el("h4", {}, t("lesson.predict")),
        el("p", {}, text(q.text)),
        el("div", { class: "choices" }, ...choices),
        answered
          ? el(
              "p",
              { class: picked === q.answer ? "prediction right" : "prediction wrong", "data-testid": "prediction" },
              picked === q.answer ? t("lesson.right") : t("lesson.wrong", { answer: text(q.choices[q.answer]) }),
            )
          : picked === undefined
            ? el("p", { class: "hint" }, t("lesson.predict.first"))
            : null,
      );
    }
    const hint = p.revealed[`${task.name}.hint`]
      ? el("p", { class: "hint-text", "data-testid": "hint" }, el("strong", {}, t("lesson.hint") + ": "), text(task.hint))
      : null;
    const explanation = explained
      ? el(
          "div",
          { class: "explanation", "data-testid": "explanation" },
          el("h4", {}, t("lesson.explanation")),
          ...paragraphs(task.explanation),
          task.more ? el("p", { class: "more" }, t("lesson.more") + " ", el("code", { "data-testid": "more" }, task.more)) : null,
        )
      : null;
    const last = lessons.task >= lessons.lesson.tasks.length - 1;
    return el(
      "div",
      { class: "task", "data-testid": "task" },
      el("h3", {}, `${number}. ${text(task.title)}`),
      question,
      el("p", { class: "task-text" }, text(task.text)),
      el("p", { class: "goal", "data-testid": "goal" }, el("strong", {}, t("lesson.goal") + ": "), goalText(task.goal), " ", el("span", { class: "muted" }, t("lesson.goal.seeds", { k: Math.max(1, task.seeds - 1), n: task.seeds }))),
      el(
        "div",
        { class: "buttons" },
        el("button", { class: "primary", "data-testid": "check", onclick: check, ...(lessons.checking ? { disabled: "" } : {}) }, t("lesson.check")),
        el("button", { "data-testid": "hint-button", onclick: () => reveal(`${task.name}.hint`) }, t("lesson.hint")),
        explained ? null : el("button", { "data-testid": "reveal", onclick: () => reveal(task.name) }, t("lesson.reveal")),
        last ? null : el("button", { "data-testid": "next", onclick: () => go(lessons.task + 1) }, t("lesson.next")),
      ),
      verdictView(task),
      hint,
      explanation,
    );
  }

  // A shared computer in a classroom: the next learner starts afresh.
  function forget() {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("pointlab.lesson.")) localStorage.removeItem(key);
    }
    render();
  }

  function reveal(key) {
    const p = progress();
    p.revealed[key] = true;
    save(p);
    render();
  }

  function go(i) {
    lessons.task = i;
    const p = progress();
    p.task = i;
    save(p);
    render();
  }

  function render() {
    if (panel.hidden) return;
    const lesson = lessons.lesson;
    if (!lesson) {
      const index = lessons.index;
      const items = index
        ? index.lessons.map((x) => {
            const p = load(x.name);
            const done = Object.keys(p.done || {}).length;
            return el(
              "li",
              {},
              el("button", { class: "link", "data-testid": `open-${x.name}`, onclick: () => open(x.name) }, text(x.title)),
              el("span", { class: "muted" }, " " + t(x.tasks === 1 ? "lesson.tasks.one" : "lesson.tasks", { n: x.tasks }) + (done ? " · " + t("lesson.done", { done, n: x.tasks }) : "")),
            );
          })
        : [];
      panel.replaceChildren(
        el("div", { class: "lesson-head" }, el("h2", {}, t("lessons.title")), el("button", { onclick: () => { panel.hidden = true; } }, t("lesson.close"))),
        el("p", { class: "hint" }, t("lessons.hint")),
        el("ol", { class: "lesson-index", "data-testid": "lesson-index" }, ...items),
        ...(index ? index.errors : []).map((line) => el("p", { class: "lesson-error", "data-testid": "lesson-error" }, line)),
        el("button", { "data-testid": "forget", onclick: forget, title: t("lessons.forget.title") }, t("lessons.forget")),
      );
      return;
    }
    const p = progress();
    const tabs = lesson.tasks.map((task, i) =>
      el(
        "button",
        { class: i === lessons.task ? "tab current" : "tab", "data-testid": `task-${i + 1}`, onclick: () => go(i) },
        `${i + 1}${p.done[task.name] ? " ✓" : ""}`,
      ),
    );
    panel.replaceChildren(
      el(
        "div",
        { class: "lesson-head" },
        el("h2", { "data-testid": "lesson-title" }, text(lesson.title)),
        el("div", { class: "buttons tabs" }, el("span", { class: "muted" }, t("lesson.task")), ...tabs),
        el("button", { "data-testid": "lessons-index", onclick: toggleIndex }, t("lessons.all")),
        el("button", { "data-testid": "close-lesson", onclick: () => close() }, t("lesson.close")),
      ),
      el("div", { class: "lesson-body" }, el("div", { class: "intro" }, ...paragraphs(lesson.intro)), taskView(lesson.tasks[lessons.task], lessons.task + 1)),
    );
  }

  return {
    receive, failed, connected, open, toggleIndex, render,
    ready: controls,
    name: () => (lessons.lesson ? lessons.lesson.name : lessons.pending),
  };
}
