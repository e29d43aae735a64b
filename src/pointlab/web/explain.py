"""Step and explain: one training step of the main model, traced stage by stage for the page.

The trace (forward values layer by layer, the loss, the gradients by the chain rule, the update)
comes from `pointlab.explain.trace_step`, on `pointlab.autodiff`, the small autodiff written for
teaching, checked against torch; where it is missing the page's button answers with a clear
message instead.

Not here: the explained step itself (`pointlab.explain`), the live training (`live.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pointlab.errors import UserError

if TYPE_CHECKING:
    from pointlab.web.session import Session


def explain_step(session: Session) -> dict[str, Any]:
    """A JSON-able trace of one training step of the session's main member."""
    try:
        from pointlab.explain import trace_step
    except ImportError:
        raise UserError(
            "Step and explain needs pointlab.explain (pointlab explain), "
            "which this pointlab does not have yet"
        ) from None
    live = session.live
    assert live is not None
    m = session.main
    return trace_step(live.configs[m], live.state(m), live.train.X, live.train.y, live.n_classes)
