"""pointlab: a hands-on deep-learning lab on 2-D point classification.

The short API (docs/API.md): `train`, `load_run`, `load_data`, `load_points`, `make_data`,
`TrainConfig`, `Dataset`. Importing pointlab does not import torch; training does.
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
