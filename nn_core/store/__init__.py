"""Everything the engine keeps on disk, under ``DIGIT_LAB_HOME``.

``paths`` says where (runs, models, digits); ``model_file`` reads and writes a model as one
``.npz`` (no pickle; checked whole before use, entry headers first through ``npz_reader``); ``runstore`` keeps a training run's record (``run_record``) after every
epoch (``runs/<id>/run.json`` + ``model.npz``) so a reload or a restart finds it; ``my_digits``
holds a person's own drawn digits; ``default_model`` is the Draw page's ready model. Writes are
atomic (temporary file, then rename).
"""

from nn_core.store.model_file import ModelFileError, SavedModel, load_model, save_model
from nn_core.store.paths import app_home, models_dir, runs_dir

__all__ = ["ModelFileError", "SavedModel", "app_home", "load_model", "models_dir", "runs_dir", "save_model"]
