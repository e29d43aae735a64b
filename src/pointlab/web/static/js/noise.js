// The noise field's meaning for the chosen data set (each generator's noise is a different thing,
// as pointlab/generators.py documents), and a slider over the range that makes sense for it.
import { t } from "./i18n.js";

const MEANING = { linear: "flip", curve: "flip", random: "unused", gauss: "spread" };

// Which sentence: flip (a label probability), spread (a blob's size), jitter (added to every
// point), unused (random labels), files (a book file or an upload: not generated).
export function noiseKind(kind, fallback) {
  if (fallback === null || fallback === undefined) return "files";
  return MEANING[kind] || "jitter";
}

// `data`: the server's ready message (its settings, and the generator's own noise).
export function showNoise(slider, meaning, data) {
  const kind = noiseKind(data.settings.data, data.noise_default);
  meaning.textContent = t(`noise.${kind}`, { default: data.noise_default ?? "" });
  slider.max = kind === "flip" ? "1" : kind === "spread" ? "0.5" : "0.3";
  slider.step = kind === "flip" ? "0.05" : "0.01";
  slider.disabled = kind === "files" || kind === "unused";
  slider.value = data.settings.noise !== "" ? data.settings.noise : String(data.noise_default ?? 0);
}
