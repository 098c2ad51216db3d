"""Images in and out of the 28x28 format the networks read.

``preprocess`` turns a drawing or a photo into an MNIST-style digit (crop to the ink, fit 20x20,
centre by mass in 28x28); ``augment`` makes random affine and elastic variants of training
batches; ``canvas`` re-draws MNIST digits the way the Draw page's canvas would (for robustness
figures). Pillow is used here for decoding and resampling, nowhere else in the engine.
"""

from nn_core.images.augment import AugmentConfig, augment_batch
from nn_core.images.preprocess import (
    EmptyDrawingError,
    ImageFileError,
    load_image,
    preprocess_digit,
    preprocess_file,
)

__all__ = [
    "AugmentConfig",
    "EmptyDrawingError",
    "ImageFileError",
    "augment_batch",
    "load_image",
    "preprocess_digit",
    "preprocess_file",
]
