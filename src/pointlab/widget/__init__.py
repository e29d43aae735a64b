"""pointlab's playground as a Jupyter widget (anywidget): `from pointlab.widget import
Playground`. Needs the `jupyter` extra (`pip install 'pointlab[jupyter]'`); `import pointlab`
never imports it, and without anywidget this import says what to install.

Read `playground.py` (the kernel side), `playground.js` (the front end) and `bundle.py` (how the
page's JavaScript modules become the widget's one ES module).

Not here: the page (`pointlab.web`), the other notebook displays (`pointlab.notebook`).
"""

INSTALL = "pip install 'pointlab[jupyter]'"

try:
    import anywidget  # noqa: F401  (the one dependency of the extra)
except ImportError as error:
    raise ModuleNotFoundError(
        f"the notebook playground needs anywidget, not installed: {INSTALL}", name="anywidget"
    ) from error

from pointlab.widget.playground import Playground  # noqa: E402

__all__ = ["Playground"]
