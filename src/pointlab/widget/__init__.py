"""pointlab's playground as a Jupyter widget (anywidget): `from pointlab.widget import
Playground`. Needs the `jupyter` extra (`pip install 'pointlab[jupyter]'`); `import pointlab`
never imports it.

Read `playground.py` (the kernel side), `playground.js` (the front end) and `bundle.py` (how the
page's JavaScript modules become the widget's one ES module).

Not here: the page (`pointlab.web`), the other notebook displays (`pointlab.notebook`).
"""

from pointlab.widget.playground import Playground

__all__ = ["Playground"]
