"""pointlab.explain: one training step of a model taken apart, an application of pointlab.autodiff.

Read it in this order:

1. `step.py`: `explain_step(model, config, X, y, n_classes)` runs one full-batch step with the
   autodiff and records every stage (forward, loss, backward with the chain rule behind it, the
   update, a gradient check, the computation graph); `trace_step` is the web playground's
   "Step and explain", the same as JSON.
2. `trace.py`: `StepTrace`, the typed, frozen record of that step (`to_dict()`, `summary()`).
3. `report.py`: `report_markdown(trace, data_name)`, the record as a report a learner reads.
4. `update.py`: the optimizer's update of the traced weight, term by term.
5. `plane.py`: `plane_values`, each layer's activations over the plane, for the pictures.

Not here: the autodiff itself (`pointlab.autodiff`), pictures (`pointlab.plots.explain`), files
and output (`pointlab.cli.explain_cmd`, `pointlab.web.explain`).
"""

from pointlab.explain.plane import PlaneLayer, plane_extent, plane_values
from pointlab.explain.report import PICTURES, report_markdown
from pointlab.explain.step import explain_step, trace_step
from pointlab.explain.trace import StepTrace

__all__ = [
    "PICTURES",
    "PlaneLayer",
    "StepTrace",
    "explain_step",
    "plane_extent",
    "plane_values",
    "report_markdown",
    "trace_step",
]
