"""The widget's front end as one ES module, built from the playground page's own modules.

anywidget loads a widget's front end from one string (`_esm`), which cannot import files beside
it: a relative `import ... from "./plane.js"` has nothing to resolve against. So the string
built here carries the source of every module the widget needs, read at import time from the
page's folder (`pointlab/web/static/js/`), with the widget's own `playground.js` read as if it
lay there too; in the browser a few lines turn each module into a Blob URL, dependencies
first, with its `"./X.js"` specifiers rewritten to the URLs of those already made, and import
the widget's. Every module keeps its own scope, exactly as the page loads it (no concatenation,
so two modules may declare the same name), and a module imported twice is one instance. Blob
URLs are what anywidget itself loads `_esm` through, so this works wherever anywidget does
(JupyterLab, Notebook 7, VS Code, Colab). The page's English strings come inside too, since
there is no server to fetch `static/i18n/en.json` from.

Not here: the widget's kernel side (`playground.py`), the page's modules themselves.
"""

from __future__ import annotations

import json
import re
from importlib import resources

ENTRY = "playground.js"
# A static import or export-from of a sibling module: the only form of import the modules use.
IMPORT = re.compile(r'\bfrom\s+"\./([\w-]+\.js)"')

LOADER = """// pointlab's notebook playground: the page's modules, each from a Blob URL (bundle.py)
const SOURCES = __SOURCES__;
const ORDER = __ORDER__;
const urls = {};
for (const name of ORDER) {
  const code = SOURCES[name].replace(
    /\\bfrom\\s+"\\.\\/([\\w-]+\\.js)"/g, (_, dep) => `from "${urls[dep]}"`
  );
  urls[name] = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
}
const widget = await import(urls[ORDER[ORDER.length - 1]]);
export default widget.default;
"""


def module_sources() -> dict[str, str]:
    """Every module the widget imports, directly or not, by file name: the page's (static/js)
    and the widget's own; a name that is in neither is an error here, not in a browser."""
    page = resources.files("pointlab.web").joinpath("static/js")
    own = resources.files("pointlab.widget")
    sources: dict[str, str] = {}
    wanted = [ENTRY]
    while wanted:
        name = wanted.pop()
        if name in sources:
            continue
        folder = own if name == ENTRY else page
        if not folder.joinpath(name).is_file():
            raise FileNotFoundError(f"the widget imports {name}, which is not in {page}")
        sources[name] = folder.joinpath(name).read_text(encoding="utf-8")
        wanted.extend(IMPORT.findall(sources[name]))
    return sources


def load_order(sources: dict[str, str]) -> list[str]:
    """The modules, each after every module it imports (the entry last)."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"the widget's modules import each other in a circle: {path}")
        for dep in IMPORT.findall(sources[name]):
            visit(dep, (*path, name))
        order.append(name)

    visit(ENTRY, ())
    return order


def esm() -> str:
    """The widget's `_esm`: the loader with every module's source inside it."""
    sources = module_sources()
    parts = {
        "__SOURCES__": json.dumps(sources, ensure_ascii=False),
        "__ORDER__": json.dumps(load_order(sources)),
    }
    return re.sub("__(SOURCES|ORDER)__", lambda m: parts[m.group(0)], LOADER)


def strings() -> dict[str, object]:
    """The page's English strings (static/i18n/en.json), which the widget's labels use."""
    text = resources.files("pointlab.web").joinpath("static/i18n/en.json").read_text("utf-8")
    return dict(json.loads(text))


def css() -> str:
    """The widget's `_css`."""
    return resources.files("pointlab.widget").joinpath("playground.css").read_text("utf-8")
