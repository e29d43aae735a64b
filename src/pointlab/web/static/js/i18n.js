// The page's words: one JSON file per language in static/i18n/ (en.json, ja.json, ...), listed
// with their own names in static/i18n/languages.json. A third language is a file and a line
// there. Elements name their text by key: data-i18n (text), data-i18n-title, -placeholder and
// -label (attributes). t(key, {name: value}) fills {name} placeholders; a key missing from a
// language falls back to English, and a key missing from both shows as itself. serverText()
// puts the server's messages into the language where its file has patterns for them.

let strings = {}, english = {}, current = "en", names = { en: "English" };

export async function loadLanguages() {
  const response = await fetch("/static/i18n/languages.json");
  names = await response.json();
  english = await (await fetch("/static/i18n/en.json")).json();
  return names;
}

// The language to use: the link's lang=, else the browser's first language we have, else English.
export function chooseLanguage(requested, preferred = navigator.languages || [navigator.language]) {
  if (requested && requested in names) return requested;
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in names) return base;
  }
  return "en";
}

export async function setLanguage(lang) {
  current = lang in names ? lang : "en";
  strings = current === "en" ? english : await (await fetch(`/static/i18n/${current}.json`)).json();
  document.documentElement.lang = current;
  apply(document);
  return current;
}

// Strings given rather than fetched: the notebook widget (pointlab.widget) has no server to
// fetch them from, so it brings the English file inside its module.
export function useStrings(table) {
  english = strings = table;
  current = "en";
}

export function language() {
  return current;
}

export function t(key, vars = {}) {
  const text = strings[key] ?? english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function apply(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attribute of ["title", "placeholder", "label"]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      el.setAttribute(attribute, t(el.getAttribute(`data-i18n-${attribute}`)));
    }
  }
}

// A message from the server (English) in the page's language, where the language file has a
// pattern for it: "server" is a list of [regular expression, replacement] pairs, tried on each
// "; "-separated part. Messages without a pattern stay as the server wrote them.
export function serverText(text) {
  const patterns = strings.server || [];
  if (!patterns.length) return text;
  return String(text).split("; ").map((part) => {
    for (const [pattern, replacement] of patterns) {
      const re = new RegExp(pattern);
      if (re.test(part)) return part.replace(re, replacement);
    }
    return part;
  }).join("; ");
}
