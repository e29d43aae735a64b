"""Hyperparameter search: spaces (`space`), strategies (`strategies`), the study store (`store`,
through the Optuna adapter `optuna_api`) and the orchestration that trains trials as engine
populations (`sweep`). Importing this package imports neither Optuna nor torch; its modules do."""

STRATEGIES = (
    "grid",
    "random",
    "tpe",
    "halving",
)  # here, so `pointlab sweep --help` needs no Optuna
