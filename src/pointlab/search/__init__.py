"""Hyperparameter search: spaces (`space`), strategies (`strategies`), the study store (`store`,
through the Optuna adapter `optuna_adapter`), the sweep that claims and chooses trials (`sweep`,
its setup in `setup`), the populations that train them and their executors (`jobs`; Ray's in
`ray_cluster`), the sweep folder (`folder`), and the generative sweep (`generative`: GenConfig
trials scored by the distance of their samples to held-out points). Importing this package
imports neither Optuna nor torch; its modules do."""

STRATEGIES = (
    "grid",
    "random",
    "tpe",
    "halving",
)  # here, so `pointlab sweep --help` needs no Optuna
