"""Hyperparameter search: spaces (`space`), strategies (`strategies`), the study store (`store`)
and the orchestration that trains trials as engine populations (`sweep`)."""
