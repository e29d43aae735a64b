"""TrainConfig and GenConfig check their fields with the same machinery (`config.Faults`,
`hidden_widths`, `refuse_unknown`): the same faults read the same way in both."""

import pytest

from pointlab.config import ConfigError, TrainConfig
from pointlab.errors import UserError
from pointlab.generative.config import GenConfig


@pytest.mark.parametrize("cls, what", [(TrainConfig, "training"), (GenConfig, "generative")])
def test_both_configs_read_widths_name_every_fault_and_refuse_unknown_options(cls, what):
    assert cls(hidden="16, 8").hidden == (16, 8)
    assert cls.from_dict({"hidden": [4, 4]}).hidden == (4, 4)  # a record's JSON list
    with pytest.raises(ConfigError) as bad:
        cls(hidden="16x16")
    [(name, text)] = bad.value.problems
    assert name == "hidden" and text.startswith("'16x16': give hidden widths like 64,64")
    with pytest.raises(ConfigError) as bad:
        cls(hidden=(16, 0), lr=-1.0, seed=-1)
    assert [name for name, _ in bad.value.problems] == ["hidden", "lr", "seed"]
    assert ("lr", "must be a finite number >= 0, got -1") in bad.value.problems
    assert ("hidden", "widths must be at least 1, got 16,0") in bad.value.problems
    with pytest.raises(ConfigError) as bad:
        cls(schedule="wavy")
    [(name, text)] = bad.value.problems
    assert name == "schedule" and text.startswith("must be one of constant, ")
    assert text.endswith(", got wavy")
    with pytest.raises(UserError, match=f"^unknown {what} options: depth, widht$"):
        cls.from_dict({"widht": 3, "depth": 2})
