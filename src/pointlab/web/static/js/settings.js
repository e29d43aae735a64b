// The page's settings: named as `pointlab train` flags, kept in the form and in the URL.
// The server checks them and answers with the full, normalized set (its `ready` message);
// the form and the URL then show exactly that set, so a copied link reproduces the setup.

export function fromUrl(search = window.location.search) {
  const out = {};
  for (const [key, value] of new URLSearchParams(search)) out[key] = value;
  return out;
}

export function toUrl(settings) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(settings)) {
    if (value !== "" && value !== null && value !== undefined) params.set(key, value);
  }
  // Keep commas and semicolons readable: ?layers=16,16&compare=lr=0.01+0.1
  return "?" + params.toString().replace(/%2C/g, ",").replace(/%3B/g, ";").replace(/%3D/g, "=");
}

export function readForm(root) {
  const out = {};
  for (const el of root.querySelectorAll("[name]")) out[el.name] = el.value.trim();
  return out;
}

export function fillForm(root, settings) {
  for (const el of root.querySelectorAll("[name]")) {
    if (!(el.name in settings)) continue;
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === settings[el.name])) continue;
    el.value = settings[el.name];
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
      input.title = `width of hidden layer ${i + 1}`;
      input.addEventListener("change", () => {
        widths[i] = input.value;
        field.value = widths.join(",");
        onChange();
      });
      container.append(input);
    });
    if (!widths.length) container.append(Object.assign(document.createElement("span"), { textContent: "none", className: "muted" }));
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
