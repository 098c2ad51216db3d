"""Tests for nn_core.data.stats on small generated arrays, plus the real MNIST training set."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.data import stats as ds


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def small(rng):
    """60 random uint8 images of shape (5, 4) and labels 0..2, class 2 deliberately rarer."""
    images = rng.integers(0, 256, size=(60, 5, 4), dtype=np.uint8)
    labels = np.array([0] * 25 + [1] * 30 + [2] * 5, dtype=np.uint8)
    rng.shuffle(labels)
    return images, labels


def test_class_counts_by_hand():
    counts = ds.class_counts(np.array([2, 0, 2, 2, 1], dtype=np.uint8), n_classes=4)
    np.testing.assert_array_equal(counts, [1, 1, 3, 0])
    assert counts.dtype == np.int64
    with pytest.raises(ValueError, match="0..2"):
        ds.class_counts(np.array([0, 3]), n_classes=3)
    with pytest.raises(ValueError, match="one-dimensional"):
        ds.class_counts(np.zeros((2, 2), dtype=int), n_classes=3)


def test_pixel_summary_matches_direct_moments(small):
    images, _ = small
    summary = ds.pixel_summary(images)
    as_float = images.astype(np.float64) / 255
    assert (summary.n_images, summary.height, summary.width) == (60, 5, 4)
    assert summary.mean == pytest.approx(as_float.mean(), rel=1e-12)
    assert summary.std == pytest.approx(as_float.std(), rel=1e-12)
    assert summary.histogram.shape == (256,) and summary.histogram.sum() == images.size
    assert summary.histogram[images[0, 0, 0]] >= 1
    assert summary.zero_fraction == pytest.approx(np.mean(images == 0))


def test_pixel_summary_counts_across_chunks(monkeypatch, small):
    images, _ = small
    whole = ds.pixel_summary(images).histogram
    monkeypatch.setattr(ds, "_CHUNK", 7)  # forces many partial chunks, the last one short
    np.testing.assert_array_equal(ds.pixel_summary(images).histogram, whole)
    np.testing.assert_array_equal(whole, np.bincount(images.ravel(), minlength=256))


def test_pixel_summary_rejects_other_inputs():
    with pytest.raises(ValueError, match="uint8"):
        ds.pixel_summary(np.zeros((2, 3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="uint8"):
        ds.pixel_summary(np.zeros((9, 9), dtype=np.uint8))


def test_class_mean_std_per_class(small):
    images, labels = small
    means, stds = ds.class_mean_std(images, labels, n_classes=4)
    assert means.shape == stds.shape == (4, 5, 4)
    assert means.dtype == stds.dtype == np.float32
    for c in range(3):
        members = images[labels == c].astype(np.float64) / 255
        np.testing.assert_allclose(means[c], members.mean(axis=0), atol=1e-6)
        np.testing.assert_allclose(stds[c], members.std(axis=0), atol=1e-6)
    assert np.isnan(means[3]).all() and np.isnan(stds[3]).all()  # class 3 has no example
    with pytest.raises(ValueError, match="do not match"):
        ds.class_mean_std(images[:10], labels, n_classes=4)


def test_class_distances_and_closest_pairs(rng):
    means = rng.random((5, 3, 3))
    d = ds.class_distances(means)
    flat = means.reshape(5, -1)
    expected = np.linalg.norm(flat[:, None, :] - flat[None, :, :], axis=2)
    np.testing.assert_allclose(d, expected, atol=1e-9)
    np.testing.assert_array_equal(np.diag(d), 0.0)
    pairs = ds.closest_pairs(d, k=3)
    upper = sorted((expected[i, j], i, j) for i in range(5) for j in range(i + 1, 5))
    assert [(i, j) for _, i, j in upper[:3]] == [(i, j) for i, j, _ in pairs]
    assert pairs[0][2] == pytest.approx(upper[0][0])


def test_closest_pairs_by_hand():
    d = np.array([[0, 4, 1], [4, 0, 2], [1, 2, 0]], dtype=float)
    assert ds.closest_pairs(d, k=2) == [(0, 2, 1.0), (1, 2, 2.0)]
    assert ds.closest_pairs(d, k=0) == []


def test_sample_indices(small):
    _, labels = small
    picked = ds.sample_indices(labels, 10, np.random.default_rng(3))
    assert picked.shape == (10,) and len(set(picked.tolist())) == 10
    assert picked.min() >= 0 and picked.max() < len(labels)
    np.testing.assert_array_equal(picked, ds.sample_indices(labels, 10, np.random.default_rng(3)))
    assert not np.array_equal(picked, ds.sample_indices(labels, 10, np.random.default_rng(4)))
    only = ds.sample_indices(labels, 100, np.random.default_rng(0), classes=(2,))
    assert sorted(only.tolist()) == np.flatnonzero(labels == 2).tolist()  # all 5, no more
    mixed = ds.sample_indices(labels, 20, np.random.default_rng(0), classes=(0, 2))
    assert set(labels[mixed].tolist()) <= {0, 2}
    assert ds.sample_indices(labels, 0, np.random.default_rng(0)).shape == (0,)


def test_pca_finds_the_dominant_direction(rng):
    direction = np.array([3.0, 4.0, 0.0]) / 5.0
    t = rng.normal(size=400)
    X = 10 + np.outer(t * 5, direction) + rng.normal(scale=0.1, size=(400, 3))
    coords, components, mean, ratio = ds.pca(X, n_components=2)
    assert coords.shape == (400, 2) and components.shape == (2, 3) and ratio.shape == (3,)
    assert coords.dtype == components.dtype == mean.dtype == np.float32
    assert abs(components[0] @ direction) == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(components @ components.T, np.eye(2), atol=1e-5)
    assert ratio.sum() == pytest.approx(1.0) and np.all(np.diff(ratio) <= 1e-12)
    assert ratio[0] > 0.99
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-5)
    assert components[0][np.argmax(np.abs(components[0]))] > 0  # sign convention


def test_pca_agrees_with_svd_of_the_data(rng):
    X = rng.normal(size=(50, 6)) @ rng.normal(size=(6, 6))
    coords, components, _, ratio = ds.pca(X, n_components=3)
    centred = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(ratio, s**2 / np.sum(s**2), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(np.abs(components), np.abs(vt[:3]), atol=1e-4)
    np.testing.assert_allclose(np.abs(coords), np.abs(centred @ vt[:3].T), rtol=1e-3, atol=1e-3)


def test_pca_rejects_bad_requests():
    with pytest.raises(ValueError, match="at least two rows"):
        ds.pca(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="n_components"):
        ds.pca(np.zeros((5, 3)), n_components=4)


def test_pca_of_subset(small):
    images, _ = small
    result = ds.pca_of_subset(images, 25, np.random.default_rng(1))
    assert result.indices.shape == (25,) and np.all(np.diff(result.indices) > 0)
    assert result.coords.shape == (25, 2) and result.components.shape == (2, 20)
    scaled = images[result.indices].reshape(25, -1).astype(np.float32) / 255
    coords, *_ = ds.pca(scaled, 2)
    np.testing.assert_allclose(result.coords, coords, atol=1e-5)
    everything = ds.pca_of_subset(images, 1000, np.random.default_rng(1))
    np.testing.assert_array_equal(everything.indices, np.arange(60))


def test_components_for_variance():
    ratio = np.array([0.5, 0.3, 0.15, 0.05])
    assert ds.components_for_variance(ratio, 0.5) == 1
    assert ds.components_for_variance(ratio, 0.8) == 2
    assert ds.components_for_variance(ratio, 0.81) == 3
    assert ds.components_for_variance(ratio, 1.0) == 4
    with pytest.raises(ValueError, match="fraction"):
        ds.components_for_variance(ratio, 0.0)


@pytest.mark.real_data
def test_real_mnist_statistics(mnist_root):
    from nn_core.data.local import load_split

    images, labels = load_split("mnist", "train", root=mnist_root)
    summary = ds.pixel_summary(images)
    # The normalisation constants published with MNIST training code: mean 0.1307, std 0.3081.
    assert summary.mean == pytest.approx(0.1307, abs=1e-4)
    assert summary.std == pytest.approx(0.3081, abs=1e-4)
    counts = ds.class_counts(labels, 10)
    assert counts.sum() == len(images) and counts.min() > 0.08 * len(images)
    means, _ = ds.class_mean_std(images, labels, 10)
    assert means[1].sum() < 0.6 * means[0].sum()  # a "1" has far less ink than a "0"
