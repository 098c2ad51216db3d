"""My digits on disk: add, delete, round trip, the download format, damaged files and limits."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest

from nn_core.store import my_digits as digitset
from nn_core.store.my_digits import (
    DigitSet,
    DigitSetError,
    add_digit,
    delete_digits,
    digitset_from_bytes,
    digitset_path,
    digitset_to_bytes,
    load_digits,
    to_uint8,
)

ROOT = Path(__file__).resolve().parents[1]


def _digit(rng: np.random.Generator) -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image[4:24, 10:18] = rng.uniform(0.2, 1.0, size=(20, 8)).astype(np.float32)
    return image


@pytest.fixture
def path(tmp_path):
    return tmp_path / "digits" / "mine.npz"


def test_missing_file_is_an_empty_set(path):
    digits = load_digits(path)
    assert len(digits) == 0
    assert digits.images.shape == (0, 28, 28)
    assert digits.inputs().shape == (0, 784)


def test_add_then_load_keeps_pixels_labels_and_order(path):
    rng = np.random.default_rng(0)
    images = [_digit(rng) for _ in range(3)]
    for label, image in zip([7, 1, 7], images, strict=True):
        add_digit(image, label, path=path, now=1000.0 + label)
    digits = load_digits(path)
    assert len(digits) == 3
    assert digits.labels.tolist() == [7, 1, 7]
    assert digits.ids.tolist() == [1, 2, 3]
    assert digits.added.tolist() == [1007.0, 1001.0, 1007.0]
    for stored, image in zip(digits.images, images, strict=True):
        assert stored.dtype == np.uint8
        assert np.abs(stored / 255.0 - image).max() <= 0.5 / 255 + 1e-6  # rounded to 8 bits
    assert digits.counts().tolist() == [0, 1, 0, 0, 0, 0, 0, 2, 0, 0]
    inputs = digits.inputs()
    assert inputs.dtype == np.float32 and inputs.shape == (3, 784)
    assert np.array_equal(inputs[1], digits.images[1].ravel() / np.float32(255))


def test_delete_removes_only_the_given_ids_and_ids_are_never_reused(path):
    rng = np.random.default_rng(1)
    for label in range(4):
        add_digit(_digit(rng), label, path=path)
    after = delete_digits([2, 4, 99], path=path)
    assert after.ids.tolist() == [1, 3]
    assert after.labels.tolist() == [0, 2]
    assert load_digits(path).ids.tolist() == [1, 3]
    added = add_digit(_digit(rng), 9, path=path)
    assert added.ids.tolist() == [1, 3, 5]  # 4 was deleted and is not given out again


def test_delete_nothing_leaves_the_file_untouched(path):
    add_digit(_digit(np.random.default_rng(2)), 3, path=path)
    before = path.stat().st_mtime_ns
    assert len(delete_digits([], path=path)) == 1
    assert path.stat().st_mtime_ns == before


def test_download_bytes_load_like_mnist(path):
    rng = np.random.default_rng(3)
    add_digit(_digit(rng), 4, path=path)
    add_digit(_digit(rng), 2, path=path)
    data = digitset_to_bytes(load_digits(path))
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert npz["images"].shape == (2, 28, 28) and npz["images"].dtype == np.uint8
        assert npz["labels"].tolist() == [4, 2]
    back = digitset_from_bytes(data)
    assert np.array_equal(back.images, load_digits(path).images)
    assert back.next_id == 3


def test_each_owner_has_a_file_of_their_own_under_the_app_home(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    assert digitset_path("a1b2c3d4e5f60718") == tmp_path / "digits" / "a1b2c3d4e5f60718.npz"
    add_digit(_digit(np.random.default_rng(4)), 0, digitset_path("a1b2c3d4e5f60718"))
    assert len(load_digits(digitset_path("a1b2c3d4e5f60718"))) == 1
    assert len(load_digits(digitset_path("ffff0000ffff0000"))) == 0  # another owner sees none of them
    for bad in ("../etc", "", "a/b", "UPPER"):
        with pytest.raises(ValueError, match="owner id"):
            digitset_path(bad)


def test_merging_a_shared_set_adds_new_digits_with_new_ids_and_skips_repeats(tmp_path):
    rng = np.random.default_rng(9)
    mine, theirs = tmp_path / "mine.npz", tmp_path / "theirs.npz"
    shared = _digit(rng)
    add_digit(shared, 1, mine)
    add_digit(_digit(rng), 2, mine)
    add_digit(shared, 1, theirs)  # the same digit as one of mine
    add_digit(_digit(rng), 5, theirs)
    add_digit(_digit(rng), 6, theirs)
    incoming = digitset_from_bytes(digitset_to_bytes(load_digits(theirs)))
    after, added = digitset.merge_digits(incoming, mine, now=5.0)
    assert added == 2
    assert after.labels.tolist() == [1, 2, 5, 6]
    assert after.ids.tolist() == [1, 2, 3, 4] and after.next_id == 5
    assert after.added[-2:].tolist() == [5.0, 5.0]
    assert load_digits(mine).labels.tolist() == [1, 2, 5, 6]
    again, none = digitset.merge_digits(incoming, mine)
    assert none == 0 and len(again) == 4


@pytest.mark.parametrize("label", [-1, 10, 3.0, True, "7", None])
def test_bad_labels_are_refused(path, label):
    with pytest.raises(DigitSetError, match="0-9"):
        add_digit(_digit(np.random.default_rng(5)), label, path=path)
    assert not path.exists()


def test_blank_and_misshaped_digits_are_refused(path):
    with pytest.raises(DigitSetError, match="blank"):
        add_digit(np.zeros((28, 28), np.float32), 1, path=path)
    with pytest.raises(DigitSetError, match="28x28"):
        add_digit(np.ones((20, 20), np.float32), 1, path=path)
    with pytest.raises(DigitSetError, match="finite"):
        to_uint8(np.full((28, 28), np.nan, np.float32))


def test_to_uint8_clips_and_rounds():
    image = np.linspace(-0.5, 1.5, 784, dtype=np.float32).reshape(28, 28)
    pixels = to_uint8(image)
    assert pixels.dtype == np.uint8
    assert pixels.min() == 0 and pixels.max() == 255
    assert to_uint8(pixels).tolist() == pixels.tolist()


def test_the_size_limit_says_what_to_do(path, monkeypatch):
    monkeypatch.setattr(digitset, "MAX_DIGITS", 2)
    rng = np.random.default_rng(6)
    add_digit(_digit(rng), 1, path=path)
    add_digit(_digit(rng), 2, path=path)
    with pytest.raises(DigitSetError, match="delete some"):
        add_digit(_digit(rng), 3, path=path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all", b"PK\x03\x04 truncated"],
)
def test_damaged_files_raise_a_clear_error(path, content):
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(DigitSetError, match="damaged|incomplete"):
        load_digits(path)


def test_other_npz_files_and_inconsistent_arrays_are_refused(path):
    buffer = io.BytesIO()
    np.savez(buffer, images=np.zeros((1, 28, 28), np.uint8), labels=np.zeros(1, np.uint8))
    with pytest.raises(DigitSetError, match="not a Digit Lab digit set"):
        digitset_from_bytes(buffer.getvalue())
    good = DigitSet(
        np.ones((2, 28, 28), np.uint8), np.array([1, 2], np.uint8), np.array([1, 2]), np.zeros(2), 3
    )
    broken = DigitSet(good.images, np.array([1, 12], np.uint8), good.ids, good.added, 3)
    with pytest.raises(DigitSetError, match="labels must be 0-9"):
        digitset_from_bytes(digitset_to_bytes(broken))
    repeated = DigitSet(good.images, good.labels, np.array([1, 1]), good.added, 3)
    with pytest.raises(DigitSetError, match="unique"):
        digitset_from_bytes(digitset_to_bytes(repeated))
    short = DigitSet(good.images[:1], good.labels, good.ids, good.added, 3)
    with pytest.raises(DigitSetError, match="do not fit"):
        digitset_from_bytes(digitset_to_bytes(short))


def test_concurrent_adds_lose_nothing(path):
    rng = np.random.default_rng(7)
    images = [_digit(rng) for _ in range(12)]

    def worker(start: int) -> None:
        for i in range(start, 12, 3):
            add_digit(images[i], i % 10, path=path)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    digits = load_digits(path)
    assert len(digits) == 12
    assert sorted(digits.ids.tolist()) == list(range(1, 13))


def test_no_temporary_files_are_left_behind(path):
    add_digit(_digit(np.random.default_rng(8)), 5, path=path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
