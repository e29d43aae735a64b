// The speed control: epochs a second while playing, from one at a time to full speed (0).
// The server honours it (session.py's `speed` message); the link keeps it as speed=N or
// speed=full. The default lets a learner watch the spiral's boundary form over about ten
// seconds (2,000 epochs at 200 a second) instead of a blink (measured in benchmarks/WEB.md).
export const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0];
export const DEFAULT_SPEED = 200;

// A speed from the link's text: "full", or the nearest speed offered; null when it is no speed.
export function speedFromText(text) {
  if (text === "full" || text === "0") return 0;
  const n = Number(text);
  if (text === null || text === undefined || text === "" || !Number.isFinite(n) || n <= 0) return null;
  const offered = SPEEDS.filter((s) => s > 0);
  return offered.reduce((best, s) => (Math.abs(Math.log(s / n)) < Math.abs(Math.log(best / n)) ? s : best));
}

export function speedText(speed, t) {
  return speed === 0 ? t("speed.full") : t("speed.value", { n: speed });
}
