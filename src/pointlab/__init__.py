"""pointlab: a hands-on deep-learning lab on 2-D point classification.

The short API (docs/API.md): `train`, `load_run`, `load_data`, `load_points`, `make_data`,
`TrainConfig`, `Dataset`; `Playground`, the notebook widget (the `jupyter` extra), imported only
when asked for. Importing pointlab does not import torch; training does.
"""

__version__ = "0.1.0"

from pointlab.api import (  # noqa: E402  (after __version__, which the modules read)
    Dataset,
    TrainConfig,
    load_data,
    load_points,
    load_run,
    make_data,
    train,
)

__all__ = [
    "Dataset",
    "TrainConfig",
    "__version__",
    "load_data",
    "load_points",
    "load_run",
    "make_data",
    "train",
]


def __getattr__(name: str) -> object:
    """`pointlab.Playground`: the widget, and anywidget, imported on first use."""
    if name == "Playground":
        from pointlab.widget import Playground

        return Playground
    raise AttributeError(f"module 'pointlab' has no attribute {name!r}")
