// The Generate mode: generative models of the page's points (the server's generate.py). The
// data panel is the classifier's; the models' settings are fields with data-gen (not name, so
// the classifier's form never reads them). The server sends the main member's paths from noise
// (t = 0) to its samples (t = 1); the time slider moves the samples along them here, with no
// round trip, and asks the server only for the vector field at the new time.
import { drawChart } from "./charts.js";
import { serverText, t } from "./i18n.js";
import { drawTiles, rankBy } from "./panels.js";
import { decode, toData, toPixel } from "./plane.js";
import { badKeys, fillForm, pageParams, toUrl } from "./settings.js";

const DATA_KEYS = ["data", "points", "classes", "noise", "label-noise", "data-seed"];
const SAMPLE = "#e8743b", DATA = "#9aa4b1", ARROW = "#2b5f9e";
const $ = (id) => document.getElementById(id);

function floats(b64) {
  const bytes = decode(b64);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

// `hooks`: send(message), showError(text), showNotice(text), state (the page's), classifierBusy()
// (a classifier setup awaits its answer), onClassify() (the page went back to classifying).
export function createGenerate(hooks) {
  const form = document.body;
  const g = {
    active: false, data: null, frame: null, path: null, field: null, thumbs: null,
    history: [], distances: [[], []], pending: 0, link: {}, tries: 0, viewPending: false, wantT: null,
    shown: null, // the samples drawn now: Float32Array [x0, y0, x1, y1, ...] at time `shownT`
  };
  hooks.state.generate = g; // window.pointlab.generate, for tests and scripts
  const fields = () => [...document.querySelectorAll("[data-gen]")];

  function send(message) {
    hooks.send(message);
  }

  function sendSetup(settings) {
    g.pending += 1;
    send({ type: "gen_setup", settings });
  }

  // The settings now: the data panel's, and the models' fields once an answer has filled them
  // (before, a select would send its first option: the link's and the server's defaults fill in).
  function readSettings() {
    const out = {};
    for (const key of DATA_KEYS) {
      const el = form.querySelector(`[name="${key}"]`);
      if (el && el.value.trim() !== "") out[key] = el.value.trim();
    }
    if (g.data) out.edits = g.data.settings.edits;
    if (g.data) for (const el of fields()) out[el.dataset.gen] = el.value.trim();
    return out;
  }

  function fill(settings) {
    fillForm(form, Object.fromEntries(DATA_KEYS.map((k) => [k, settings[k]])));
    for (const el of fields()) {
      const value = settings[el.dataset.gen];
      if (value === undefined) continue;
      el.value = el.dataset.gen === "batch-size" && value === "full" ? "" : value;
    }
  }

  // A field changed: set up again (the clicked points belong to the data they were clicked on).
  function changed(event) {
    hooks.showNotice("");
    const settings = readSettings();
    if (DATA_KEYS.includes(event?.target?.name)) settings.edits = "";
    sendSetup(settings);
  }
  for (const el of fields()) el.addEventListener("change", changed);

  // --- the mode switch ----------------------------------------------------------------------
  function setMode(generate) {
    g.active = generate;
    document.body.classList.toggle("generate", generate);
    $("mode-classify").classList.toggle("selected", !generate);
    $("mode-generate").classList.toggle("selected", generate);
    const s = hooks.state;
    if (generate) {
      if (s.frame && s.frame.status === "playing") send({ type: "pause" }); // one trains at a time
      if (!g.data) sendSetup({ ...readSettings(), ...g.link });
      else {
        fill(g.data.settings);
        header();
      }
    } else {
      if (g.frame && g.frame.status === "playing") send({ type: "gen_pause" });
      hooks.onClassify();
    }
    updateUrl();
  }
  $("mode-classify").addEventListener("click", () => g.active && setMode(false));
  $("mode-generate").addEventListener("click", () => !g.active && setMode(true));

  function updateUrl() {
    if (!g.active) return false;
    const settings = g.data ? g.data.settings : g.link;
    history.replaceState(null, "", toUrl(settings, { mode: "generate", ...pageParams(hooks.state) }));
    return true;
  }

  // --- what the server sends ----------------------------------------------------------------
  function receive(message) {
    if (message.type === "gen_ready") ready(message);
    else if (message.type === "frame" && message.mode === "generate") frame(message);
    else if (message.type === "error" && g.pending > 0 && !hooks.classifierBusy()) refused(message.message);
    else return false;
    return true;
  }

  function refused(text) {
    g.pending -= 1;
    if (!g.data) {
      // The first setup: the link's settings; drop what the server named, as the classifier does.
      g.tries += 1;
      const keys = badKeys(text, Object.keys(g.link));
      if (keys.length && g.tries < 3) for (const key of keys) delete g.link[key];
      else g.link = {};
      hooks.showNotice(t("notice.replaced", { problems: serverText(text) }));
      sendSetup({ ...readSettings(), ...g.link });
      return;
    }
    hooks.showError(serverText(text));
    if (g.pending === 0) fill(g.data.settings); // the form shows what trains
  }

  function ready(data) {
    g.pending = Math.max(0, g.pending - 1);
    const reset = !g.data || data.members.length !== g.data.members.length;
    g.data = data;
    g.viewPending = false;
    hooks.showError("");
    if (data.edits_left_out) hooks.showNotice(t("notice.edits-full", { n: data.edits_limit }));
    if (g.pending === 0 && g.active) fill(data.settings);
    if (reset) g.history = data.members.map(() => ({ epoch: [], train_loss: [] }));
    $("gen-compare").hidden = data.members.length < 2;
    $("gen-members-note").textContent = data.members.length > 1 ? t("population.note", { n: data.members.length }) : "";
    $("gen-members").replaceChildren();
    $("gen-reference").textContent = distanceText(data.reference);
    updateUrl();
  }

  function frame(f) {
    if (f.epoch === 0 || (g.frame && f.epoch < g.frame.epoch)) {
      g.history = g.history.map(() => ({ epoch: [], train_loss: [] }));
    }
    f.rows.forEach((rows, m) => {
      for (const key of Object.keys(rows)) g.history[m]?.[key].push(...rows[key]);
    });
    g.frame = f;
    if (f.path) g.path = { steps: f.path_steps, n: f.path_samples, xy: floats(f.path) };
    if (f.distances) g.distances = f.distances;
    if (f.field) {
      g.field = { t: f.field.t, arrows: floats(f.field.arrows) };
      g.viewPending = false;
      if (g.wantT !== null && g.wantT !== f.field.t) askField(g.wantT);
      g.wantT = null;
    }
    if (f.thumbs) g.thumbs = { samples: f.thumbs.map(floats), distances: f.thumb_distances };
    if (!g.active) return;
    header();
    const m = f.main, number = (v, digits) => (v === null || v === undefined ? "–" : v.toFixed(digits));
    $("gen-loss").textContent = number(f.loss[m], 4);
    if ("distance" in f) $("gen-distance").textContent = distanceText(f.distance);
    $("gen-main-label").textContent = g.data.members.length > 1 ? t("population.main", { label: g.data.members[m] }) : "";
    draw();
    charts();
    if (g.data.members.length > 1 && f.thumbs) drawMembers();
  }

  // The header's counters, which both modes write.
  function header() {
    const f = g.frame;
    if (!f || !g.data) return;
    $("epoch").textContent = f.epoch;
    $("epochs-total").textContent = g.data.epochs;
    $("status").textContent = t(`status.${f.status}`);
    $("speed").textContent = "";
  }

  // --- the plane ----------------------------------------------------------------------------
  // Positions at time s (0 noise .. 1 samples): each sample between the two path steps around s.
  function positions(s) {
    const { steps, n, xy } = g.path;
    const u = s * steps, i = Math.min(steps - 1, Math.floor(u)), w = u - i;
    const out = new Float32Array(2 * n), a = i * 2 * n, b = (i + 1) * 2 * n;
    for (let j = 0; j < 2 * n; j++) out[j] = (1 - w) * xy[a + j] + w * xy[b + j];
    return out;
  }

  function time() {
    return Number($("gen-time").value);
  }

  function draw() {
    const canvas = $("gen-plane"), ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!g.data) return;
    const extent = g.data.extent, s = time();
    $("gen-time-label").textContent = t("gen.time.value", { t: s.toFixed(2) });
    const dot = (x, y, r, colour) => {
      const [px, py] = toPixel(extent, canvas, x, y);
      ctx.beginPath();
      ctx.arc(px, py, r, 0, 2 * Math.PI);
      ctx.fillStyle = colour;
      ctx.fill();
    };
    if ($("gen-data").checked) for (const [x, y] of g.data.points) dot(x, y, 3, DATA);
    if (!g.path) return;
    const { steps, n, xy } = g.path;
    if ($("gen-paths").checked) {
      ctx.strokeStyle = "rgba(232,116,59,0.22)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let j = 0; j < n; j += 2) { // every other sample's path: the picture stays readable
        for (let i = 0; i <= steps; i++) {
          const [px, py] = toPixel(extent, canvas, xy[i * 2 * n + 2 * j], xy[i * 2 * n + 2 * j + 1]);
          if (i === 0) ctx.moveTo(px, py);
          else ctx.lineTo(px, py);
        }
      }
      ctx.stroke();
    }
    if ($("gen-field").checked && g.field) drawField(ctx, canvas, extent);
    g.shown = positions(s);
    g.shownT = s;
    for (let j = 0; j < n; j++) dot(g.shown[2 * j], g.shown[2 * j + 1], 2.5, SAMPLE);
  }

  // Arrows of the learned velocity, scaled so that the longest is about one grid cell long.
  function drawField(ctx, canvas, extent) {
    const a = g.field.arrows, count = a.length / 4, cells = Math.sqrt(count);
    let longest = 0;
    for (let i = 0; i < count; i++) longest = Math.max(longest, Math.hypot(a[4 * i + 2], a[4 * i + 3]));
    if (!(longest > 0)) return;
    const [[x0, x1]] = extent, cell = (x1 - x0) / cells, scale = (0.9 * cell) / longest;
    ctx.strokeStyle = ARROW;
    ctx.fillStyle = ARROW;
    ctx.lineWidth = 1.2;
    for (let i = 0; i < count; i++) {
      const [x, y, vx, vy] = a.subarray(4 * i, 4 * i + 4);
      const [px, py] = toPixel(extent, canvas, x, y);
      const [qx, qy] = toPixel(extent, canvas, x + vx * scale, y + vy * scale);
      const angle = Math.atan2(qy - py, qx - px), head = Math.min(5, Math.hypot(qx - px, qy - py) / 2);
      ctx.beginPath();
      ctx.moveTo(px, py);
      ctx.lineTo(qx, qy);
      ctx.lineTo(qx - head * Math.cos(angle - 0.5), qy - head * Math.sin(angle - 0.5));
      ctx.moveTo(qx, qy);
      ctx.lineTo(qx - head * Math.cos(angle + 0.5), qy - head * Math.sin(angle + 0.5));
      ctx.stroke();
    }
  }

  // The field at a new time: one request on its way at a time, the latest time after it.
  function askField(s) {
    if (!g.data || !$("gen-field").checked) return;
    if (g.viewPending) {
      g.wantT = s;
      return;
    }
    g.viewPending = true;
    send({ type: "gen_view", t: s, field: true });
  }

  $("gen-time").addEventListener("input", () => {
    draw();
    askField(time());
  });
  $("gen-field").addEventListener("change", () => {
    if (!g.data) return;
    g.viewPending = $("gen-field").checked;
    send({ type: "gen_view", t: time(), field: $("gen-field").checked });
    draw();
  });
  for (const id of ["gen-paths", "gen-data"]) $(id).addEventListener("change", draw);

  $("gen-plane").addEventListener("click", (event) => {
    if (!g.data) return;
    const canvas = $("gen-plane"), box = canvas.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * canvas.width;
    const py = ((event.clientY - box.top) / box.height) * canvas.height;
    if (event.shiftKey) {
      let best = -1, bestDistance = 100;
      g.data.points.forEach(([x, y], i) => {
        const [qx, qy] = toPixel(g.data.extent, canvas, x, y);
        const d = (qx - px) ** 2 + (qy - py) ** 2;
        if (d <= bestDistance) { best = i; bestDistance = d; }
      });
      if (best >= 0) send({ type: "gen_remove_point", index: best });
    } else {
      const [x, y] = toData(g.data.extent, canvas, px, py);
      send({ type: "gen_add_point", x, y });
    }
  });

  // --- curves and the population ------------------------------------------------------------
  function charts() {
    const f = g.frame, m = f.main, h = g.history[m];
    if (!h) return;
    drawChart($("gen-loss-chart"), [
      { x: [...h.epoch, f.epoch], y: [...h.train_loss, f.loss[m]], colour: "#1f77b4" },
    ], { log: true, title: t("numbers.loss"), epochLabel: t("epoch") });
    const [epochs, distances] = g.distances;
    const last = Math.max(1, f.epoch, ...epochs);
    drawChart($("gen-distance-chart"), [
      { x: epochs, y: distances, colour: SAMPLE, label: t("gen.samples") },
      { x: [0, last], y: [g.data.reference, g.data.reference], colour: "#777", label: t("gen.chart.gaussian") },
    ], { yMin: 0, title: t("gen.distance"), epochLabel: t("epoch") });
  }

  function drawMembers() {
    const { samples, distances } = g.thumbs, extent = g.data.extent;
    drawTiles($("gen-members"), rankBy(distances), {
      testid: "gen-member",
      size: 120,
      main: g.frame.main,
      onSelect: (m) => send({ type: "gen_select", member: m }),
      draw: (canvas, label, m, rank) => {
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        const dots = (xy, colour, r) => {
          ctx.fillStyle = colour;
          for (let j = 0; j + 1 < xy.length; j += 2) {
            const [px, py] = toPixel(extent, canvas, xy[j], xy[j + 1]);
            ctx.fillRect(px - r / 2, py - r / 2, r, r);
          }
        };
        dots(g.data.points.flat(), DATA, 1.5);
        dots(samples[m], SAMPLE, 2);
        const d = distances[m];
        label.textContent = `#${rank + 1} ${g.data.members[m]} · ${distanceText(d, true)}`;
      },
    });
  }

  // The energy distance is estimated without bias: samples the points cannot tell from the data
  // (a good model, or too few points to judge) read about 0, a little below it as often as above.
  // Below 0 the page says so instead of showing a learner a negative distance (short: in a tile).
  function distanceText(d, short = false) {
    if (d === null || d === undefined) return "–";
    if (d >= 0) return d.toFixed(3);
    return short ? "≈ 0" : t("gen.floor");
  }

  // After a language change: the words this module writes.
  function relabel() {
    if (!g.data || !g.frame) return;
    if (g.active) header();
    draw();
    charts();
    if (g.thumbs && g.data.members.length > 1) drawMembers();
  }

  return {
    active: () => g.active,
    // The page opened with mode=generate: its other keys are the Generate mode's settings.
    open(settings) {
      g.link = { ...settings };
      g.opening = true;
    },
    // The classifier's first answer came: a link with mode=generate opens the mode now, so that
    // the two modes' first answers never cross.
    classifierReady() {
      if (g.opening) {
        g.opening = false;
        setMode(true);
      }
    },
    leave() {
      if (g.active) setMode(false);
    },
    changed,
    receive,
    relabel,
    header,
    updateUrl,
    uploaded() {
      if (g.active) sendSetup({ ...readSettings(), data: "upload", edits: "" });
    },
    button(name) {
      send({ type: `gen_${name}` });
    },
  };
}
