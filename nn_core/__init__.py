"""Digit Lab engine: a from-scratch NumPy neural network for MNIST-style data (no Streamlit here).

The model core is flat: ``config`` (ModelConfig, TrainConfig), ``settings`` (the schema each
config field a person sets is declared with), ``links`` (settings as playground values and
links), ``architecture`` (layer specs and their grammar: ``conv16x5,maxpool2,dense128``),
``model_summary`` (Keras-style summaries, the architecture string), ``layers``, ``conv``,
``pooling``, ``normalization``, ``spec_layers`` (specs to layers), ``activations``, ``losses``,
``init``, ``network`` (build_network),
``optimizers``, ``schedules``, ``train`` (Trainer, the per-epoch generator), ``metrics``,
``presets``, ``experiment`` (configs to a ready trainer), ``fields`` (type-checked configs from
untrusted JSON) and ``memory`` (a run's estimated memory against the budget). Around it, one
subpackage per part:

- ``data``: the dataset registry, local IDX files, downloads, checksums, statistics;
- ``images``: drawing/photo preprocessing, augmentation, canvas-style rendering;
- ``store``: where files live, model files, the run store, My digits, the default model;
- ``speed``: BLAS thread control and kernels used by the training loop;
- ``cli``: ``python -m nn_core``.

The names below are the public API: ``from nn_core import build_network, Trainer`` works without
knowing which file holds what.
"""

from nn_core.architecture import LayerSpec, format_layers, parse_layers
from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.data import DataError, ensure_dataset, load_split
from nn_core.experiment import TrainingData, load_training_data, make_trainer
from nn_core.images import preprocess_digit, preprocess_file
from nn_core.memory import MemoryBudgetError, check_run, estimate_run
from nn_core.metrics import accuracy, confusion_matrix
from nn_core.model_summary import architecture_string, summary, summary_text
from nn_core.network import Network, build_network
from nn_core.presets import PRESETS, get_preset
from nn_core.store import ModelFileError, SavedModel, load_model, save_model
from nn_core.train import EpochMetrics, Trainer, TrainingDiverged, early_stopping, train

__all__ = [
    "PRESETS",
    "ConfigError",
    "DataError",
    "EpochMetrics",
    "MemoryBudgetError",
    "LayerSpec",
    "ModelConfig",
    "ModelFileError",
    "Network",
    "SavedModel",
    "TrainConfig",
    "Trainer",
    "TrainingData",
    "TrainingDiverged",
    "accuracy",
    "architecture_string",
    "build_network",
    "check_run",
    "confusion_matrix",
    "early_stopping",
    "ensure_dataset",
    "estimate_run",
    "format_layers",
    "get_preset",
    "load_model",
    "load_split",
    "load_training_data",
    "make_trainer",
    "parse_layers",
    "preprocess_digit",
    "preprocess_file",
    "save_model",
    "summary",
    "summary_text",
    "train",
]
