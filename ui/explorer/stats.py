"""Cached statistics for the dataset explorer, computed from the real splits the data layer reads.

Each function is keyed by dataset name, split and the data folder (so a different ``DIGIT_LAB_DATA``
is a different entry) and wraps a pure function of ``nn_core.data.stats``. Results are small
(a histogram, twenty 28x28 images, a 2-D map of a few thousand points), so ``st.cache_data`` holds
them and a second visit, or a switch back to a dataset seen before, costs no computation.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from nn_core.data import stats as dataset_stats
from nn_core.data.local import data_root
from nn_core.data.registry import get_dataset_info
from ui.datasets import load_split_cached

PCA_SEED = 0  # fixed, so the map of a split is the same on every visit


def _root() -> str:
    return str(data_root())


@st.cache_data(show_spinner="Counting pixels...", max_entries=8)
def _summary(name: str, split: str, root: str) -> tuple[dataset_stats.PixelSummary, np.ndarray]:
    images, labels = load_split_cached(name, split, root)
    counts = dataset_stats.class_counts(labels, get_dataset_info(name).n_classes)
    return dataset_stats.pixel_summary(images), counts


def summary(name: str, split: str) -> tuple[dataset_stats.PixelSummary, np.ndarray]:
    """(pixel summary, class counts of shape (n_classes,)) of one split."""
    return _summary(name, split, _root())


@st.cache_data(show_spinner="Averaging each class...", max_entries=8)
def _class_images(name: str, split: str, root: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images, labels = load_split_cached(name, split, root)
    means, stds = dataset_stats.class_mean_std(images, labels, get_dataset_info(name).n_classes)
    return means, stds, dataset_stats.class_distances(means)


def class_images(name: str, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(means (k, 28, 28), stds (k, 28, 28), distances between means (k, k)) of one split."""
    return _class_images(name, split, _root())


@st.cache_data(show_spinner=False, max_entries=64)
def _samples(name: str, split: str, root: str, classes: tuple[int, ...], seed: int, n: int) -> np.ndarray:
    _, labels = load_split_cached(name, split, root)
    return dataset_stats.sample_indices(labels, n, np.random.default_rng(seed), classes)


def sample_indices(name: str, split: str, classes: tuple[int, ...], seed: int, n: int) -> np.ndarray:
    """Row indices (up to n) of random images of the given classes (all when empty), fixed by ``seed``."""
    return _samples(name, split, _root(), tuple(sorted(classes)), int(seed), int(n))


@st.cache_data(show_spinner="Computing the PCA map...", max_entries=8)
def _pca(name: str, split: str, root: str, n_points: int) -> dataset_stats.PCAResult:
    images, _ = load_split_cached(name, split, root)
    return dataset_stats.pca_of_subset(images, n_points, np.random.default_rng(PCA_SEED), n_components=2)


def pca_map(name: str, split: str, n_points: int) -> dataset_stats.PCAResult:
    """PCA of ``n_points`` random images of the split (the same subset on every visit)."""
    return _pca(name, split, _root(), int(n_points))
