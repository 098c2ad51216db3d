"""Tests for nn_core.images.augment: random affine and elastic augmentation of 28x28 batches."""

import numpy as np
import pytest

from nn_core.images.augment import (
    AugmentConfig,
    affine_batch,
    augment_batch,
    elastic_displacement,
)

IDENTITY = AugmentConfig(max_shift=0.0, max_rotation=0.0, scale_range=(1.0, 1.0))


def _digit_like(n: int, seed: int = 0) -> np.ndarray:
    """Centred asymmetric strokes with soft edges, shape (n, 28, 28) float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    imgs = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        r0, c0 = rng.integers(8, 12, size=2)
        imgs[i, r0 : r0 + 10, c0 : c0 + 3] = 1.0  # vertical bar
        imgs[i, r0 + 8 : r0 + 11, c0 : c0 + 8] = 1.0  # foot to the right: an "L"
        imgs[i] += 0.5 * np.exp(-((yy - 14.0) ** 2 + (xx - 14.0) ** 2) / 4.0)
    return np.clip(imgs, 0, 1)


def _centre_of_mass(imgs: np.ndarray) -> np.ndarray:
    """(n, 2) row and column centre of mass."""
    idx = np.arange(28)
    mass = imgs.sum(axis=(1, 2))
    rows = (imgs.sum(axis=2) * idx).sum(axis=1) / mass
    cols = (imgs.sum(axis=1) * idx).sum(axis=1) / mass
    return np.stack([rows, cols], axis=1)


@pytest.mark.parametrize("shape", [(5, 784), (5, 28, 28)])
def test_shape_and_dtype_preserved(shape):
    images = np.random.default_rng(1).random(shape, dtype=np.float32)
    result = augment_batch(images, np.random.default_rng(2))
    assert result.shape == shape
    assert result.dtype == np.float32
    assert not np.shares_memory(result, images)


def test_writes_into_out_and_in_place_matches():
    images = _digit_like(7).reshape(7, 784)
    expected = augment_batch(images, np.random.default_rng(3))
    out = np.full_like(images, -1.0)
    returned = augment_batch(images, np.random.default_rng(3), out=out)
    assert returned is out
    np.testing.assert_array_equal(out, expected)
    in_place = images.copy()
    augment_batch(in_place, np.random.default_rng(3), out=in_place)
    np.testing.assert_array_equal(in_place, expected)


def test_zero_magnitude_config_is_identity():
    images = np.random.default_rng(4).random((9, 28, 28), dtype=np.float32)
    result = augment_batch(images, np.random.default_rng(5), IDENTITY)
    np.testing.assert_allclose(result, images, atol=1e-6)


def test_integer_shift_moves_pixels_exactly():
    img = _digit_like(1)
    down = affine_batch(img, np.array([[2.0, 0.0]]), np.zeros(1), np.ones(1))
    np.testing.assert_allclose(down[0, 2:], img[0, :-2], atol=1e-5)
    np.testing.assert_allclose(down[0, :2], 0.0, atol=1e-6)
    right = affine_batch(img, np.array([[0.0, 2.0]]), np.zeros(1), np.ones(1))
    np.testing.assert_allclose(right[0, :, 2:], img[0, :, :-2], atol=1e-5)


def test_shift_moves_centre_of_mass():
    imgs = _digit_like(4)
    shifts = np.array([[2.0, 0.0], [0.0, 2.0], [-1.5, 0.5], [0.25, -2.0]])
    moved = affine_batch(imgs, shifts, np.zeros(4), np.ones(4))
    delta = _centre_of_mass(moved) - _centre_of_mass(imgs)
    np.testing.assert_allclose(delta, shifts, atol=0.05)


@pytest.mark.parametrize(("angle", "k"), [(90.0, 1), (-90.0, -1), (180.0, 2)])
def test_right_angle_rotation_matches_rot90(angle, k):
    img = _digit_like(1, seed=6)
    rotated = affine_batch(img, np.zeros((1, 2)), np.array([angle]), np.ones(1))
    np.testing.assert_allclose(rotated[0], np.rot90(img[0], k), atol=1e-4)


def test_rotation_override_through_config():
    """A config with a fixed large rotation range still gives valid, rotated images."""
    img = _digit_like(1, seed=7)
    config = AugmentConfig(max_shift=0.0, max_rotation=90.0, scale_range=(1.0, 1.0))
    rotated = augment_batch(np.repeat(img, 50, axis=0), np.random.default_rng(8), config)
    diffs = np.abs(rotated - img).sum(axis=(1, 2))
    assert np.all(diffs > 0)  # a random angle in [-90, 90] is never exactly 0
    assert rotated.min() >= 0.0 and rotated.max() <= 1.0


def test_scale_multiplies_mass_by_area_factor():
    imgs = np.repeat(_digit_like(1, seed=9), 3, axis=0)
    scales = np.array([0.8, 1.0, 1.25])
    scaled = affine_batch(imgs, np.zeros((3, 2)), np.zeros(3), scales)
    ratio = scaled.sum(axis=(1, 2)) / imgs.sum(axis=(1, 2))
    np.testing.assert_allclose(ratio, scales**2, rtol=0.08)


def test_same_seed_same_output_and_different_seed_differs():
    images = _digit_like(6)
    config = AugmentConfig(elastic=True)
    a = augment_batch(images, np.random.default_rng(10), config)
    b = augment_batch(images, np.random.default_rng(10), config)
    c = augment_batch(images, np.random.default_rng(11), config)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.1


def test_values_stay_in_unit_interval_under_strong_transforms():
    images = np.random.default_rng(12).random((600, 784), dtype=np.float32)
    images[:50] = 1.0
    config = AugmentConfig(
        max_shift=5, max_rotation=45, scale_range=(0.5, 1.5), elastic=True, elastic_alpha=30
    )
    result = augment_batch(images, np.random.default_rng(13), config)
    assert result.min() >= 0.0
    assert result.max() <= 1.0
    assert np.all(np.isfinite(result))


def test_mass_roughly_preserved_for_small_transforms():
    images = _digit_like(200, seed=14)
    config = AugmentConfig(max_shift=2.0, max_rotation=12.0, scale_range=(1.0, 1.0))
    result = augment_batch(images, np.random.default_rng(15), config)
    ratio = result.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert np.all(np.abs(ratio - 1.0) < 0.06)
    assert np.abs(result - images).sum(axis=(1, 2)).min() > 0  # each image really changed


def test_elastic_changes_image_but_keeps_range_and_mass():
    images = _digit_like(100, seed=16)
    config = AugmentConfig(max_shift=0.0, max_rotation=0.0, scale_range=(1.0, 1.0), elastic=True)
    result = augment_batch(images, np.random.default_rng(17), config)
    change = np.abs(result - images).mean(axis=(1, 2))
    assert np.all(change > 1e-3)
    assert result.min() >= 0.0 and result.max() <= 1.0
    ratio = result.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert np.all(np.abs(ratio - 1.0) < 0.25)


def test_elastic_displacement_is_smooth_and_scales_with_alpha():
    field_a = elastic_displacement(400, np.random.default_rng(18), alpha=1.0, sigma=3.0)
    field_b = elastic_displacement(400, np.random.default_rng(18), alpha=5.0, sigma=3.0)
    assert field_a.shape == (400, 2, 784)
    assert field_a.dtype == np.float32
    np.testing.assert_allclose(field_b, 5.0 * field_a, rtol=1e-4, atol=1e-6)
    grid = field_a.reshape(400, 2, 28, 28)
    neighbours = np.corrcoef(grid[..., :-1].ravel(), grid[..., 1:].ravel())[0, 1]
    assert neighbours > 0.8  # unsmoothed uniform noise would give about 0


def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(19)
    with pytest.raises(ValueError, match="float"):
        augment_batch(np.zeros((2, 784), np.uint8), rng)
    with pytest.raises(ValueError, match="784"):
        augment_batch(np.zeros((2, 100), np.float32), rng)
    with pytest.raises(ValueError, match="max_shift"):
        augment_batch(np.zeros((2, 784), np.float32), rng, AugmentConfig(max_shift=-1))
    with pytest.raises(ValueError, match="scale_range"):
        augment_batch(np.zeros((2, 784), np.float32), rng, AugmentConfig(scale_range=(1.2, 0.9)))
    with pytest.raises(ValueError, match="out"):
        augment_batch(np.zeros((2, 784), np.float32), rng, out=np.zeros((2, 28, 28), np.float32))


def test_slant_moves_the_top_right_and_the_bottom_left():
    from nn_core.images.augment import CENTRE, slant_inverse

    image = np.zeros((1, 28, 28), np.float32)
    image[0, 4:24, 13:15] = 1.0  # an upright bar
    identity = np.array([[[1, 0, 0], [0, 1, 0]]], np.float32)
    m = slant_inverse(identity, np.array([0.3]))
    # the source of output (x, y) is x - 0.3 * (CENTRE - y): the top of the bar now sits further right
    np.testing.assert_allclose(
        m[0] @ np.array([20.0, 4.0, 1.0]), [20.0 - 0.3 * (CENTRE - 4.0), 4.0], atol=1e-5
    )
    out = augment_batch(
        image,
        np.random.default_rng(0),
        AugmentConfig(max_shift=0, max_rotation=0, scale_range=(1, 1), max_shear=20),
    )[0]
    top, bottom = out[5].argmax(), out[22].argmax()
    assert top != bottom  # the bar leans one way or the other


def test_no_shear_draws_nothing_extra_from_the_generator():
    image = np.random.default_rng(0).random((4, 784), dtype=np.float32)
    a = augment_batch(image, np.random.default_rng(7), AugmentConfig())
    b = augment_batch(image, np.random.default_rng(7), AugmentConfig(max_shear=0.0))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="max_shear"):
        AugmentConfig(max_shear=80).validate()
