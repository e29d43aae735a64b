"""A compare-mode member repeats alone: the playground's split is the data's (seeded by
`data-seed`), so a member's numbers are those of its settings set up on their own, and its export
repeats with `pointlab train --split-seed`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pointlab import runs, training
from pointlab.cli import main
from webclient import session, setup, until

from conftest import quiet

pytestmark = pytest.mark.usefixtures("one_thread")

SETTINGS = dict(data="moons", points=120, epochs=60, layers="8,8", lr=0.03, data_seed=5)


def trained(ws, **settings):
    """The finished frame of a setup played to its last epoch."""
    ready = setup(ws, **settings)
    assert ready["type"] == "ready", ready
    ws.send_json({"type": "play"})
    return ready, until(ws, lambda m: m["type"] == "frame" and m["status"] == "finished")


def test_a_compare_member_gives_the_numbers_of_its_settings_alone(client):
    with session(client) as ws:
        ready, together = trained(ws, **SETTINGS, compare="seed=0 3")
        assert ready["members"] == ["seed=0", "seed=3"]
        alone_ready, alone = trained(ws, **SETTINGS, seed=3)
    # The same points held out for validation, whatever the model seed.
    assert alone_ready["points"] == ready["points"] and alone_ready["n_train"] == ready["n_train"]
    for key, values in together["now"].items():
        assert values[1] == pytest.approx(alone["now"][key][0], rel=1e-5), key


def test_an_exported_member_repeats_with_pointlab_train(client, tmp_path):
    with session(client) as ws:
        trained(ws, **SETTINGS, compare="seed=0 3")
        ws.send_json({"type": "select", "member": 1})
        until(ws, lambda m: m["type"] == "frame" and m["main"] == 1)
        ws.send_json({"type": "export"})
        exported = until(ws, lambda m: m["type"] in ("exported", "error"))
    assert exported["type"] == "exported", exported
    run_dir = exported["path"]
    record = json.loads(open(f"{run_dir}/config.json").read())
    assert record["split_seed"] == 5 and record["config"]["seed"] == 3
    page = runs.read_metrics(run_dir)

    # config.json repeats it ...
    spec, _ = runs.read_spec(run_dir)
    (tmp_path / "again").mkdir()
    again = training.train(spec, run_dir=tmp_path / "again")
    assert again.history["val_loss"][-1] == pytest.approx(page["val_loss"][-1], rel=1e-5)

    # ... with `pointlab train --config` too ...
    assert main(["train", "--config", f"{run_dir}/config.json", "--out", str(tmp_path / "c")]) == 0
    repeated = runs.read_metrics(tmp_path / "c")
    for key, values in page.items():  # a member of two, then alone: the last bits may differ
        assert repeated[key] == pytest.approx(values, rel=1e-5), key

    # ... and so does the command line, given the data seed as --split-seed.
    out = tmp_path / "cli"
    argv = ["train", f"{run_dir}/data.csv", "--layers", "8,8", "--activation", "tanh"]
    argv += ["--lr", "0.03", "--epochs", "60", "--no-standardize"]  # the page's inputs: raw
    argv += ["--seed", "3", "--split-seed", "5"]
    assert main([*argv, "--out", str(out)], quiet()) == 0
    cli = runs.read_metrics(out)
    for key in ("train_loss", "val_loss", "val_acc"):
        assert cli[key][-1] == pytest.approx(page[key][-1], rel=1e-5), key
    # Without --split-seed the split follows --seed, as it always has.
    assert main([*argv[:-2], "--out", str(tmp_path / "old")], quiet()) == 0
    old = json.loads((tmp_path / "old" / "config.json").read_text())
    assert old["split_seed"] == 3
    assert not np.isclose(runs.read_metrics(tmp_path / "old")["val_loss"][-1], page["val_loss"][-1])


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["train"], "give FILE.csv to train on, or --config RUN_DIR/config.json"),
        (["train", "--config", "nowhere/config.json"], "nowhere: no such run directory"),
        (["train", "--config", "RUN", "--lr", "0.1"], "--lr cannot change them"),
        (["train", "--config", "RUN", "data.csv"], "FILE.csv cannot change them"),
    ],
)
def test_train_config_refuses_what_it_cannot_do_in_one_line(argv, said, tmp_path, capsys):
    argv = [str(tmp_path) if a == "RUN" else a for a in argv]
    assert main(argv, quiet()) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err
