"""The canned experiments: each reproduces a claim of the book or a paper, with pictures.

`EXPERIMENTS` is the registry: one line per experiment, its name and what it shows, in the order
`pointlab experiment list` shows them. Listing reads only this table; an experiment's module
(`pointlab.experiments.<name with _ for ->`) is imported by `load`, when it runs.

Not here: the report format and claims (`base.py`), drawing (`pointlab.plots`).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

# name -> one line for `pointlab experiment list`
EXPERIMENTS: dict[str, str] = {
    "capacity": "simple (3 weights) stalls at the logistic-regression optimum; complex fits",
    "memorize": "an MLP memorizes random labels (Zhang et al. 2017): 100% train, chance on test",
    "grid-vs-random": "9 random trials beat a 3 x 3 grid when one knob matters (Bergstra 2012)",
    "lr-importance": "random search over 6 hyperparameters; fANOVA ranks the learning rate first",
    "schedules": "constant, step, cosine, warmup, restarts (SGDR; Goyal 2017): curves, warmup",
    "batch-lr": "batch k x B, lr k x lr0, warmup (Goyal et al. 2017): where linear scaling breaks",
    "double-descent": "test error vs model size peaks at N = n (Belkin 2019; Nakkiran 2019)",
    "universal": "one hidden layer approximates more as it widens; a fixed budget does not",
    "depth": "a depth-L sawtooth has 2^L pieces (Telgarsky); real nets have far fewer regions",
    "batch-noise": "sorted batches bias a model, random ones do not; small vs full batch sharpness",
    "landscape": "many starts, straight paths, connected minima, saddles: non-convex nets train",
    "lottery": "iterative magnitude pruning finds winning tickets (Frankle & Carbin 2019)",
    "skip-connections": "plain MLPs stall past ~16 layers, residual ones train (He et al. 2016)",
    "normalization": "batch norm widens the learning rates that train (Ioffe & Szegedy 2015)",
    "data-requirements": "error falls as a power law of n (Hestness 2017); where a big model pays",
    "class-imbalance": "1:20 classes: class weights, balanced batches, moved threshold (Buda 2018)",
    "adversarial": "FGSM and PGD flip answers; adversarial training widens the margin (Madry 2018)",
    "generative-ablations": "tiny-diffusion's gallery (lr, steps, width, embeddings), measured",
}


def module_name(name: str) -> str:
    """`grid-vs-random` -> `pointlab.experiments.grid_vs_random`."""
    return f"pointlab.experiments.{name.replace('-', '_')}"


def load(name: str) -> ModuleType:
    """Import the module of a registered experiment (its `run(ctx) -> Report`)."""
    return import_module(module_name(name))
