"""Descriptive statistics of an image dataset: class balance, pixel moments, class averages, PCA.

Everything works on the raw arrays the data layer returns (images uint8 of shape (n, h, w), labels
uint8 of shape (n,)) and is exact: the pixel mean and standard deviation come from a 256-bin count of
every pixel value, so they need one pass over the data and no float accumulation error. PCA centres a
float32 subset and takes the singular value decomposition of its scatter matrix; the explained-variance
ratios cover every component, so a curve of the cumulative ratio can be drawn from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_core.speed.threads import limit_blas_threads

_CHUNK = (
    1 << 20
)  # pixels counted per bincount call: bincount widens its input, so a whole split would cost ~400 MB


@dataclass(frozen=True)
class PixelSummary:
    """Size and pixel statistics of one split; intensities are on the [0, 1] scale.

    Attributes
    ----------
    n_images, height, width : int
    mean, std : float
        Mean and standard deviation over every pixel of every image.
    histogram : ndarray of shape (256,), int64
        How many pixels hold each uint8 value 0..255.
    """

    n_images: int
    height: int
    width: int
    mean: float
    std: float
    histogram: np.ndarray

    @property
    def zero_fraction(self) -> float:
        """Share of pixels that are exactly 0 (background)."""
        total = int(self.histogram.sum())
        return float(self.histogram[0] / total) if total else float("nan")


@dataclass(frozen=True)
class PCAResult:
    """Principal components of a subset of images.

    Attributes
    ----------
    indices : ndarray of shape (m,), int64
        Rows of the split that were used, in the order of ``coords``.
    coords : ndarray of shape (m, k), float32
        Projection of each used image on the first k components.
    components : ndarray of shape (k, d), float32
        Unit principal directions, largest variance first.
    mean : ndarray of shape (d,), float32
        Mean image of the subset (the centre of the projection).
    explained_variance_ratio : ndarray of shape (r,), float64
        Share of the total variance along every component (r = min(m, d)); sums to 1.
    """

    indices: np.ndarray
    coords: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    explained_variance_ratio: np.ndarray


def _check_labels(labels: np.ndarray, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}, found {labels.min()}..{labels.max()}; "
            "check that n_classes matches the dataset"
        )
    return labels.astype(np.intp, copy=False)


def class_counts(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Number of examples of each class.

    labels : ndarray of shape (n,), integer values in 0..n_classes-1.
    Returns an int64 ndarray of shape (n_classes,).
    """
    labels = _check_labels(labels, n_classes)
    return np.bincount(labels, minlength=n_classes).astype(np.int64)


def pixel_summary(images: np.ndarray) -> PixelSummary:
    """Counts and exact pixel moments of uint8 images of shape (n, h, w)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images of shape (n, h, w), got {images.dtype} {images.shape}")
    flat = images.reshape(-1)
    histogram = np.zeros(256, dtype=np.int64)
    for start in range(0, flat.size, _CHUNK):
        histogram += np.bincount(flat[start : start + _CHUNK], minlength=256)
    total = int(histogram.sum())
    if total == 0:
        mean = std = float("nan")
    else:
        values = np.arange(256, dtype=np.float64) / 255.0
        mean = float(histogram @ values / total)
        std = float(np.sqrt(max(histogram @ (values - mean) ** 2 / total, 0.0)))
    n, height, width = images.shape
    return PixelSummary(int(n), int(height), int(width), mean, std, histogram)


def class_mean_std(images: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class mean image and per-pixel standard deviation, on the [0, 1] scale.

    images : uint8 ndarray of shape (n, h, w); labels : ndarray of shape (n,).
    Returns (means, stds), each float32 of shape (n_classes, h, w). A class without examples gets NaN.
    """
    images = np.asarray(images)
    labels = _check_labels(labels, n_classes)
    if images.ndim != 3 or len(images) != len(labels):
        raise ValueError(f"images {images.shape} and labels {labels.shape} do not match")
    shape = (n_classes, *images.shape[1:])
    means = np.full(shape, np.nan, dtype=np.float32)
    stds = np.full(shape, np.nan, dtype=np.float32)
    scale = np.float32(1.0 / 255.0) if images.dtype == np.uint8 else np.float32(1.0)
    for c in range(n_classes):
        members = images[labels == c]
        if len(members):
            block = members.astype(np.float32) * scale  # (n_c, h, w)
            means[c] = block.mean(axis=0)
            stds[c] = block.std(axis=0)
    return means, stds


def class_distances(means: np.ndarray) -> np.ndarray:
    """Euclidean distance between every pair of class mean images.

    means : ndarray of shape (k, h, w) or (k, d). Returns float64 of shape (k, k), zero diagonal.
    """
    flat = np.asarray(means, dtype=np.float64).reshape(len(means), -1)  # (k, d)
    squared = (flat**2).sum(axis=1)
    gram = flat @ flat.T
    d2 = np.maximum(squared[:, None] + squared[None, :] - 2.0 * gram, 0.0)
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(d2)


def sample_indices(
    labels: np.ndarray, n: int, rng: np.random.Generator, classes: tuple[int, ...] | None = None
) -> np.ndarray:
    """Up to ``n`` distinct random row indices, only of the given classes when ``classes`` is set.

    labels : ndarray of shape (m,). Returns int64 of shape (min(n, available),), in random order.
    """
    labels = np.asarray(labels)
    pool = np.arange(len(labels)) if not classes else np.flatnonzero(np.isin(labels, list(classes)))
    take = min(max(int(n), 0), len(pool))
    return rng.choice(pool, size=take, replace=False).astype(np.int64)


def pca(X: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Principal components of the rows of X by singular value decomposition.

    X : ndarray of shape (m, d). The right singular vectors of the centred data are those of its
    d x d scatter matrix, which is much cheaper to decompose than the data when m >> d.
    Returns (coords (m, k) float32, components (k, d) float32, mean (d,) float32,
    explained_variance_ratio (min(m, d),) float64). Each component's sign is fixed so that its
    largest loading is positive, which makes the map the same from run to run.
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"PCA needs at least two rows of shape (m, d), got {X.shape}")
    k = int(n_components)
    if not 1 <= k <= min(X.shape):
        raise ValueError(f"n_components must be between 1 and {min(X.shape)}, got {n_components}")
    mean = X.mean(axis=0)  # (d,)
    centred = X - mean
    # One BLAS thread: on a busy 2-core machine the threaded product was up to 18x slower (0.3 s vs 5.9 s).
    with limit_blas_threads(1):
        scatter = (centred.T @ centred).astype(np.float64)  # (d, d), symmetric positive semi-definite
        _, singular, vt = np.linalg.svd(scatter, hermitian=True)  # eigenvalues of the scatter, descending
    variances = np.maximum(singular[: min(X.shape)], 0.0)
    total = variances.sum()
    ratio = variances / total if total > 0 else np.zeros_like(variances)
    components = vt[:k]  # (k, d)
    biggest = np.argmax(np.abs(components), axis=1)
    components = components * np.sign(components[np.arange(k), biggest])[:, None]
    components = components.astype(np.float32)
    coords = centred @ components.T  # (m, k)
    return coords.astype(np.float32), components, mean, ratio


def pca_of_subset(images: np.ndarray, n: int, rng: np.random.Generator, n_components: int = 2) -> PCAResult:
    """PCA of ``n`` randomly chosen images (all of them when there are fewer).

    images : uint8 ndarray of shape (m, h, w) (scaled to [0, 1]) or float of shape (m, d).
    """
    images = np.asarray(images)
    take = min(int(n), len(images))
    indices = np.sort(rng.choice(len(images), size=take, replace=False)).astype(np.int64)
    X = images[indices].reshape(take, -1).astype(np.float32)  # (take, d)
    if images.dtype == np.uint8:
        X *= np.float32(1.0 / 255.0)
    coords, components, mean, ratio = pca(X, n_components)
    return PCAResult(indices, coords, components, mean, ratio)


def components_for_variance(ratio: np.ndarray, fraction: float) -> int:
    """Smallest number of leading components whose explained variance reaches ``fraction`` (0..1]."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    cumulative = np.cumsum(np.asarray(ratio, dtype=np.float64))
    reached = np.flatnonzero(cumulative >= fraction - 1e-9)
    return int(reached[0] + 1) if reached.size else len(cumulative)


def closest_pairs(distances: np.ndarray, k: int = 3) -> list[tuple[int, int, float]]:
    """The ``k`` pairs of classes (i < j) with the smallest distance, closest first.

    distances : symmetric ndarray of shape (n, n). Returns [(i, j, distance), ...].
    """
    distances = np.asarray(distances, dtype=np.float64)
    i, j = np.triu_indices(len(distances), k=1)
    values = distances[i, j]
    order = np.argsort(values, kind="stable")[: max(int(k), 0)]
    return [(int(i[o]), int(j[o]), float(values[o])) for o in order]
