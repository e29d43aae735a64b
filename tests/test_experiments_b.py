"""The schedule functions of experiment `schedules` equal torch's schedulers. (Every experiment's
quick run is in `test_experiments_quick.py`.)"""

from __future__ import annotations

from pointlab.experiments.schedules import torch_agreement


def test_schedules_equal_torch_schedulers():
    assert torch_agreement() < 1e-9
