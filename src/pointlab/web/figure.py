"""The playground's "Download PNG": a member's decision regions as `pointlab train` draws its
boundary.png, from the member's weights now.

The figure is the library's (`pointlab.plots.boundary`: axes, colour bar, legend, accuracies under
the title) over the plane the page shows, titled with the model's description
(`pointlab.config.describe`), the data set and the epoch, as a run's boundary.png is, on a grid as
fine as boundary.png's unless the model is too large to predict it within a page's budget
(`budget.picture_steps`). Returned as PNG bytes: the page saves them, nothing is written on the
server.

Not here: the live pictures of each frame (`pictures.py`), run directories (`export.py`).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pointlab.checkpoint import TrainedModel
from pointlab.config import describe
from pointlab.web import budget

if TYPE_CHECKING:
    from pointlab.web.live import LiveTraining


def member_png(
    live: LiveTraining, member: int, name: str, extent: list[list[float]], label: str = ""
) -> bytes:
    """PNG bytes of member `member`'s regions with its training and validation points, over
    `extent` ([[x0, x1], [y0, y1]]); `name`: the data set's; `label`: the member's compare-mode
    settings ("lr=0.03"), added to the title when given."""
    from pointlab.plots.boundary import GRID, SIZE, compute_boundary, draw_boundary
    from pointlab.plots.save import new_figure

    config = live.configs[member]
    model = TrainedModel(config, live.n_classes, live.state(member), live.scaling(member))
    title = f"{describe(config, live.n_classes)} on {name}, epoch {live.epoch}"
    if label:
        title += f" ({label})"
    (x0, x1), (y0, y1) = extent
    boundary = compute_boundary(
        model.predict_proba,
        live.train,
        live.val,
        n_classes=live.n_classes,
        steps=budget.picture_steps(config, live.n_classes, GRID),
        extent=(x0, x1, y0, y1),
    )
    figure = new_figure(*SIZE)
    draw_boundary(figure.add_subplot(), boundary, title=title)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
