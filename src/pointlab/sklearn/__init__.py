"""pointlab for scikit-learn users: an estimator, and a search that trains candidates together.

- `MLPClassifier` (`estimator.py`): scikit-learn's `MLPClassifier` interface on the population
  engine; any number of features and classes, labels of any type, Pipelines, clone, pickling.
- `PopulationSearchCV` (`search.py`): `GridSearchCV`'s and `RandomizedSearchCV`'s interface and
  results, training every candidate and fold that share an architecture as one population.

Needs the `sklearn` extra (`pip install pointlab[sklearn]`); `import pointlab` never imports it.

Not here: the engine (`pointlab.engine`), pointlab's own sweeps (`pointlab.search`).
"""

from pointlab.sklearn.estimator import MLPClassifier
from pointlab.sklearn.search import PopulationSearchCV

__all__ = ["MLPClassifier", "PopulationSearchCV"]
