"""scikit-learn's MLPClassifier and MLPRegressor, trained by libbackprop.

    from backprop.sklearn import MLPClassifier     # instead of sklearn.neural_network

Same parameters, defaults, fitted attributes and methods as scikit-learn's (see each
class for where the library differs), so pipelines, grid searches, cross-validation,
clone() and pickle work as with scikit-learn's; ``from_sklearn()`` and ``to_sklearn()``
convert fitted models both ways.  Needs scikit-learn >= 1.7 (the first whose MLPs take sample_weight):
``pip install ./bindings/python[sklearn]``.
"""

try:
    import sklearn as _sklearn
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "backprop.sklearn needs scikit-learn >= 1.7 (pip install 'scikit-learn>=1.7', or install the package "
        f"with its extra: pip install './bindings/python[sklearn]'): {_error}"
    ) from _error

if tuple(int(part) for part in _sklearn.__version__.split(".")[:2]) < (1, 7):
    raise ImportError(f"backprop.sklearn needs scikit-learn >= 1.7; this is {_sklearn.__version__}")

from ._checks import EXPECTED_FAILED_CHECKS
from ._classifier import MLPClassifier
from ._regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "EXPECTED_FAILED_CHECKS"]
