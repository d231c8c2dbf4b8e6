__version__ = "0.1.0"

# Loading the generate module attaches `generate` to both model classes, so a model from
# `load_checkpoint` can generate without a separate import.
from . import generate as _generate  # noqa: E402,F401
