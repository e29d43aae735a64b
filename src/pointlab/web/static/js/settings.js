// The page's settings: named as `pointlab train` flags, kept in the form and in the URL.
// The server checks them and answers with the full, normalized set (its `ready` message);
// the form and the URL then show exactly that set, so a copied link reproduces the setup.
import { t } from "./i18n.js";
import { DEFAULT_SPEED } from "./speed.js";

// Keys of the link that belong to the page, not to the training: its language, speed, lesson, mode,
// and the plane's toggles (show-test=0 hides the validation points, discretize=1 colours classes
// flat, as TensorFlow Playground's "show test data" and "discretize output").
export const PAGE_KEYS = ["lang", "speed", "lesson", "show-test", "discretize", "mode"];
export const TOGGLES = { "show-test": true, discretize: false }; // each toggle's default

// A toggle's value in the link: "1" or "0"; null for anything else.
export function toggleFromText(text) {
  return text === "1" ? true : text === "0" ? false : null;
}

export function fromUrl(search = window.location.search) {
  const settings = {}, page = {};
  for (const [key, value] of new URLSearchParams(search)) (PAGE_KEYS.includes(key) ? page : settings)[key] = value;
  return { settings, page };
}

// The page's own keys for the link: the language when chosen by the switch, the speed when not
// the default.
export function pageParams(state) {
  const out = {};
  if (state.lesson) out.lesson = state.lesson;
  if (state.lang) out.lang = state.lang;
  if (state.speed !== DEFAULT_SPEED) out.speed = state.speed === 0 ? "full" : String(state.speed);
  for (const [key, fallback] of Object.entries(TOGGLES)) {
    if (state.toggles && state.toggles[key] !== fallback) out[key] = state.toggles[key] ? "1" : "0";
  }
  return out;
}

export function toUrl(settings, page = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...settings, ...page })) {
    if (value !== "" && value !== null && value !== undefined) params.set(key, value);
  }
  // Keep commas and semicolons readable: ?layers=16,16&compare=lr=0.01+0.1
  return "?" + params.toString().replace(/%2C/g, ",").replace(/%3B/g, ";").replace(/%3D/g, "=");
}

// The settings a server's refusal names, among those sent: "unknown settings: a, b", or
// "key: reason; key: reason" (a key may be written key=value, as "data=upload: ...").
export function badKeys(text, sent) {
  const unknown = /^unknown settings?: (.*)$/.exec(text.split(";")[0].trim());
  const named = new Set(unknown ? unknown[1].split(",").map((k) => k.trim()) : []);
  for (const part of text.split(";")) {
    const key = part.split(":")[0].split("=")[0].trim();
    if (sent.includes(key)) named.add(key);
  }
  return [...named].filter((key) => sent.includes(key));
}

export function readForm(root) {
  const out = {};
  for (const el of root.querySelectorAll("[name]")) out[el.name] = el.value.trim();
  return out;
}

// `skip`: fields typed into and not yet sent, which an answer to an older setup must not undo.
export function fillForm(root, settings, skip = new Set()) {
  for (const el of root.querySelectorAll("[name]")) {
    if (!(el.name in settings) || skip.has(el.name)) continue;
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === settings[el.name])) continue;
    // "full" batches show as the empty field's placeholder, in the page's language.
    el.value = el.name === "batch-size" && settings[el.name] === "full" ? "" : settings[el.name];
  }
}

// Hidden widths from the `layers` text: "16,16" or "[16,16]", "none" or "[]" for no hidden layer.
// The server checks the text with the library's one grammar (pointlab.config.parse_hidden) and
// answers with "16,16" or "none", which is what this editor reads back.
export function widthsOf(text) {
  const inner = (text || "").trim().replace(/^\[(.*)\]$/, "$1").trim();
  return inner === "" || inner.toLowerCase() === "none" ? [] : inner.split(",").map((w) => w.trim());
}

// The hidden layers as width inputs with add/remove buttons, mirrored into the `layers` field.
export function layersEditor(container, field, onChange) {
  const render = () => {
    container.replaceChildren();
    const widths = widthsOf(field.value);
    widths.forEach((w, i) => {
      const input = document.createElement("input");
      input.type = "number";
      input.min = 1;
      input.max = 256;
      input.value = w;
      input.title = t("model.width.title", { layer: i + 1 });
      input.addEventListener("change", () => {
        widths[i] = input.value;
        field.value = widths.join(",");
        onChange();
      });
      container.append(input);
    });
    if (!widths.length) container.append(Object.assign(document.createElement("span"), { textContent: t("model.none"), className: "muted" }));
  };
  return {
    render,
    add() {
      const widths = widthsOf(field.value);
      widths.push(widths.length ? widths[widths.length - 1] : "8");
      field.value = widths.join(",");
      render();
      onChange();
    },
    remove() {
      const widths = widthsOf(field.value);
      widths.pop();
      field.value = widths.length ? widths.join(",") : "none";
      render();
      onChange();
    },
  };
}
