"""Tests for nn_core.data.local and nn_core.data.registry on small IDX files written here."""

from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from nn_core.data import checksums
from nn_core.data.local import (
    CorruptFileError,
    DataError,
    DataUnavailableError,
    data_root,
    dataset_dir,
    dataset_status,
    load_split,
    read_idx,
    to_float,
    train_val_split,
)
from nn_core.data.registry import DATASETS, FILE_NAMES, DatasetInfo, get_dataset_info


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX: big-endian magic (2051 for 3-D, 2049 for 1-D) and dimensions."""
    magic = {3: 2051, 1: 2049}[arr.ndim]
    return struct.pack(f">I{arr.ndim}I", magic, *arr.shape) + arr.astype(np.uint8).tobytes()


def write(path: Path, payload: bytes, compress: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_split(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.fixture(autouse=True)
def _fresh_checksum_cache():
    checksums.clear_cache()
    yield
    checksums.clear_cache()


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A registered dataset "tiny" with 12 training and 5 test images in tmp_path/tiny."""
    rng = np.random.default_rng(0)
    arrays = {"train": make_split(rng, 12), "test": make_split(rng, 5)}
    names = {
        "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    }
    files = {}
    for split, (img_name, lab_name) in names.items():
        images, labels = arrays[split]
        files[img_name] = sha(write(tmp_path / "tiny" / img_name, idx_bytes(images)))
        files[lab_name] = sha(write(tmp_path / "tiny" / lab_name, idx_bytes(labels)))
    info = DatasetInfo("tiny", "Tiny", tuple("0123456789"), files, ("http://127.0.0.1:9/",))
    monkeypatch.setitem(DATASETS, "tiny", info)
    return tmp_path, arrays


# --- read_idx -------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_images_and_labels(tmp_path, compress):
    images, labels = make_split(np.random.default_rng(1), 7)
    got_i = read_idx(write(tmp_path / "img", idx_bytes(images), compress))
    got_l = read_idx(write(tmp_path / "lab", idx_bytes(labels), compress))
    assert got_i.dtype == np.uint8 and got_i.shape == (7, 28, 28)
    assert got_l.dtype == np.uint8 and got_l.shape == (7,)
    np.testing.assert_array_equal(got_i, images)
    np.testing.assert_array_equal(got_l, labels)


def test_read_idx_detects_gzip_by_content_not_extension(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    raw_named_gz = write(tmp_path / "raw.gz", idx_bytes(labels), compress=False)
    gz_named_raw = write(tmp_path / "packed.idx", idx_bytes(labels), compress=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz), labels)
    np.testing.assert_array_equal(read_idx(str(gz_named_raw)), labels)


def test_read_idx_result_is_read_only(tmp_path):
    arr = read_idx(write(tmp_path / "lab.gz", idx_bytes(np.zeros(3, np.uint8))))
    with pytest.raises(ValueError):
        arr[0] = 1


def _corrupt_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    images, _ = make_split(np.random.default_rng(2), 4)
    good = idx_bytes(images)
    packed = gzip.compress(good)
    flipped = bytearray(packed)
    flipped[len(flipped) // 2] ^= 0xFF
    return {
        "truncated raw": (write(tmp_path / "trunc.raw", good[:-100], False), "truncated"),
        "truncated gzip": (write(tmp_path / "trunc.gz", packed[: len(packed) // 2], False), "gzip"),
        "corrupt gzip": (write(tmp_path / "flip.gz", bytes(flipped), False), "gzip"),
        "bad magic": (write(tmp_path / "magic.gz", struct.pack(">I", 2052) + good[4:]), "magic"),
        "too many bytes": (write(tmp_path / "extra.gz", good + b"\0" * 5), "longer than its header"),
        "wrong count": (write(tmp_path / "count.gz", struct.pack(">II", 2051, 5) + good[8:]), "truncated"),
        "header cut": (write(tmp_path / "header.gz", good[:10]), "header"),
        "tiny file": (write(tmp_path / "tiny.gz", b"\0\0"), "too short"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated raw",
        "truncated gzip",
        "corrupt gzip",
        "bad magic",
        "too many bytes",
        "wrong count",
        "header cut",
        "tiny file",
    ],
)
def test_read_idx_rejects_damaged_files_naming_them(tmp_path, case):
    path, hint = _corrupt_cases(tmp_path)[case]
    with pytest.raises(CorruptFileError) as err:
        read_idx(path)
    assert path.name in str(err.value)
    assert hint in str(err.value)
    assert isinstance(err.value, DataError)


def test_read_idx_missing_file_is_unavailable(tmp_path):
    with pytest.raises(DataUnavailableError, match="nothing.gz"):
        read_idx(tmp_path / "nothing.gz")


# --- data_root --------------------------------------------------------------------------------------


def test_data_root_prefers_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "d"
    assert dataset_dir("mnist") == tmp_path / "d" / "mnist"


def test_data_root_uses_xdg_when_env_var_empty(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGIT_LAB_DATA", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "xdg" / "digit-lab"


@pytest.mark.parametrize("xdg", [None, "", "relative/cache"])
def test_data_root_falls_back_to_home_cache(monkeypatch, tmp_path, xdg):
    monkeypatch.delenv("DIGIT_LAB_DATA", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_root() == tmp_path / "home" / ".cache" / "digit-lab"


# --- registry ----------------------------------------------------------------------------------------


def test_registry_entries_are_complete():
    assert set(DATASETS) >= {"mnist", "fashion-mnist"}
    assert get_dataset_info("mnist").class_names == tuple(str(d) for d in range(10))
    fashion = get_dataset_info("fashion-mnist").class_names
    assert fashion[0] == "T-shirt/top" and fashion[9] == "Ankle boot" and len(fashion) == 10
    for key in ("mnist", "fashion-mnist"):
        info = DATASETS[key]
        assert info.name == key and set(info.files) == set(FILE_NAMES)
        assert all(len(s) == 64 and int(s, 16) >= 0 for s in info.files.values())
        assert len(info.mirrors) >= 2 and all(m.startswith("http") for m in info.mirrors)
        urls = info.urls("train-labels-idx1-ubyte.gz")
        assert len(urls) == len(info.mirrors) and all(u.endswith("/train-labels-idx1-ubyte.gz") for u in urls)
    assert DATASETS["mnist"].files != DATASETS["fashion-mnist"].files


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match="mnist") as err:
        get_dataset_info("cifar")
    assert "fashion-mnist" in str(err.value) and "cifar" in str(err.value)


def test_dataset_info_is_immutable_hashable_and_picklable():
    source = {"a.gz": "AB" * 32}
    info = DatasetInfo("x", "X", ("p", "q"), source, ("http://h/base",))
    source["b.gz"] = "00" * 32  # the caller's dict is copied
    assert dict(info.files) == {"a.gz": "ab" * 32}
    with pytest.raises(TypeError):
        info.files["a.gz"] = "00"
    with pytest.raises(AttributeError):
        info.name = "y"
    assert info.urls("a.gz") == ("http://h/base/a.gz",)
    assert hash(info) == hash(DatasetInfo("x", "X", ("p", "q"), {"a.gz": "ab" * 32}, ("http://h/base/",)))
    assert pickle.loads(pickle.dumps(info)) == info
    with pytest.raises(ValueError, match="not a file"):
        info.urls("other.gz")


# --- status, checksums and load_split ----------------------------------------------------------------


def test_load_split_returns_both_splits(tiny):
    root, arrays = tiny
    for split, n in (("train", 12), ("test", 5)):
        images, labels = load_split("tiny", split, root=root)
        assert images.dtype == np.uint8 and images.shape == (n, 28, 28)
        assert labels.dtype == np.uint8 and labels.shape == (n,)
        np.testing.assert_array_equal(images, arrays[split][0])
        np.testing.assert_array_equal(labels, arrays[split][1])


def test_load_split_uses_data_root_by_default(tiny, monkeypatch):
    root, arrays = tiny
    monkeypatch.setenv("DIGIT_LAB_DATA", str(root))
    np.testing.assert_array_equal(load_split("tiny", "test")[1], arrays["test"][1])


def test_load_split_rejects_unknown_split(tiny):
    with pytest.raises(ValueError, match="train"):
        load_split("tiny", "validation", root=tiny[0])


def test_dataset_status_reports_ok_missing_and_corrupt(tiny):
    root, _ = tiny
    assert set(dataset_status("tiny", root).values()) == {"ok"}
    (root / "tiny" / "t10k-labels-idx1-ubyte.gz").unlink()
    write(root / "tiny" / "train-labels-idx1-ubyte.gz", idx_bytes(np.ones(12, np.uint8)))
    assert dataset_status("tiny", root) == {
        "train-images-idx3-ubyte.gz": "ok",
        "train-labels-idx1-ubyte.gz": "corrupt",
        "t10k-images-idx3-ubyte.gz": "ok",
        "t10k-labels-idx1-ubyte.gz": "missing",
    }


def test_checksums_are_cached_until_the_file_changes(tiny, monkeypatch):
    root, _ = tiny
    calls = []
    real = checksums._hash_file
    monkeypatch.setattr(checksums, "_hash_file", lambda p: calls.append(Path(p).name) or real(p))
    dataset_status("tiny", root)
    assert len(calls) == 4
    dataset_status("tiny", root)
    load_split("tiny", "train", root=root)
    assert len(calls) == 4
    write(root / "tiny" / "train-labels-idx1-ubyte.gz", idx_bytes(np.ones(13, np.uint8)))
    assert dataset_status("tiny", root)["train-labels-idx1-ubyte.gz"] == "corrupt"
    assert calls[4:] == ["train-labels-idx1-ubyte.gz"]


def test_checksum_mismatch_is_refused_even_if_file_parses(tiny):
    root, _ = tiny
    other, _ = make_split(np.random.default_rng(99), 12)
    write(root / "tiny" / "train-images-idx3-ubyte.gz", idx_bytes(other))
    with pytest.raises(CorruptFileError) as err:
        load_split("tiny", "train", root=root)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message and "SHA-256" in message
    assert str(root / "tiny") in message
    load_split("tiny", "test", root=root)  # the other split is unaffected


def test_missing_files_message_lists_files_folder_and_env_var(tiny):
    root, _ = tiny
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (root / "tiny" / name).unlink()
    with pytest.raises(DataUnavailableError) as err:
        load_split("tiny", "train", root=root)
    message = str(err.value)
    for part in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        str(root / "tiny"),
        "DIGIT_LAB_DATA",
    ):
        assert part in message
    assert set(err.value.missing) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}
    assert err.value.directory == root / "tiny"


def test_missing_and_corrupt_together_mentions_both(tiny):
    root, _ = tiny
    (root / "tiny" / "t10k-images-idx3-ubyte.gz").unlink()
    write(root / "tiny" / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DataUnavailableError) as err:
        load_split("tiny", "test", root=root)
    assert "t10k-images-idx3-ubyte.gz" in str(err.value)
    assert "t10k-labels-idx1-ubyte.gz failed the SHA-256 check" in str(err.value)


def _register(monkeypatch, root: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Register "odd" with whatever train files are given (checksums match them), test files absent."""
    img = write(root / "odd" / "train-images-idx3-ubyte.gz", idx_bytes(images))
    lab = write(root / "odd" / "train-labels-idx1-ubyte.gz", idx_bytes(labels))
    files = {img.name: sha(img), lab.name: sha(lab), "t10k-images-idx3-ubyte.gz": "0" * 64}
    files["t10k-labels-idx1-ubyte.gz"] = "0" * 64
    monkeypatch.setitem(DATASETS, "odd", DatasetInfo("odd", "Odd", tuple("0123456789"), files, ()))


@pytest.mark.parametrize(
    ("images", "labels", "hint"),
    [
        (np.zeros((4, 28, 28), np.uint8), np.zeros(3, np.uint8), "4 images but"),
        (np.zeros((3, 8, 8), np.uint8), np.zeros(3, np.uint8), "(28, 28)"),
        (np.zeros((3, 28, 28), np.uint8), np.array([0, 10, 1], np.uint8), "label 10"),
        (np.zeros(3, np.uint8), np.zeros(3, np.uint8), "expected an image file"),
        (np.zeros((3, 28, 28), np.uint8), np.zeros((3, 28, 28), np.uint8), "expected a label file"),
    ],
)
def test_inconsistent_pairs_are_corrupt(tmp_path, monkeypatch, images, labels, hint):
    _register(monkeypatch, tmp_path, images, labels)
    with pytest.raises(CorruptFileError) as err:
        load_split("odd", "train", root=tmp_path)
    assert hint in str(err.value)
    assert "-ubyte.gz" in str(err.value)


# --- to_float and train_val_split --------------------------------------------------------------------


def test_to_float_scales_to_unit_range():
    images = np.random.default_rng(3).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    flat = to_float(images)
    assert flat.dtype == np.float32 and flat.shape == (6, 784)
    assert flat.min() == 0.0 and flat.max() == 1.0
    np.testing.assert_allclose(flat, images.reshape(6, -1) / 255.0, rtol=1e-6)
    square = to_float(images, flatten=False)
    assert square.dtype == np.float32 and square.shape == (6, 28, 28)
    np.testing.assert_array_equal(square.reshape(6, -1), flat)


def test_to_float_rejects_non_uint8_and_bad_shapes():
    with pytest.raises(TypeError, match="uint8"):
        to_float(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="shape"):
        to_float(np.zeros((2, 784), np.uint8))


def _rows(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    X = np.repeat(np.arange(n, dtype=np.float32)[:, None], 3, axis=1)  # row i is [i, i, i]
    return X, np.arange(n) % 10


def test_train_val_split_sizes_alignment_and_disjointness():
    X, y = _rows()
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, 0.2, np.random.default_rng(0))
    assert X_tr.shape == (80, 3) and X_va.shape == (20, 3) and y_tr.shape == (80,) and y_va.shape == (20,)
    tr_ids, va_ids = X_tr[:, 0].astype(int), X_va[:, 0].astype(int)
    assert not set(tr_ids) & set(va_ids)
    assert sorted(np.concatenate([tr_ids, va_ids])) == list(range(100))
    np.testing.assert_array_equal(y_tr, tr_ids % 10)
    np.testing.assert_array_equal(y_va, va_ids % 10)
    assert va_ids.tolist() != list(range(80, 100))  # a random subset, not the tail


def test_train_val_split_is_deterministic_per_seed():
    X, y = _rows()
    a = train_val_split(X, y, 0.3, np.random.default_rng(7))
    b = train_val_split(X, y, 0.3, np.random.default_rng(7))
    c = train_val_split(X, y, 0.3, np.random.default_rng(8))
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a[2], c[2])


def test_train_val_split_zero_fraction_gives_empty_validation():
    X = np.zeros((10, 784), np.float32)
    y = np.zeros(10, np.uint8)
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, 0.0, np.random.default_rng(0))
    assert X_tr.shape == (10, 784) and X_va.shape == (0, 784) and X_va.dtype == np.float32
    assert y_va.shape == (0,) and y_va.dtype == np.uint8


def test_train_val_split_keeps_one_training_row():
    X, y = _rows(3)
    X_tr, _, X_va, _ = train_val_split(X, y, 0.9, np.random.default_rng(0))
    assert len(X_tr) == 1 and len(X_va) == 2


@pytest.mark.parametrize("fraction", [1.0, -0.1, 1.5, float("nan"), "0.1", None, True])
def test_train_val_split_rejects_bad_fraction(fraction):
    X, y = _rows(10)
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(X, y, fraction, np.random.default_rng(0))


def test_train_val_split_rejects_mismatch_and_global_rng():
    X, y = _rows(10)
    with pytest.raises(ValueError, match="rows"):
        train_val_split(X, y[:9], 0.1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        train_val_split(X, y, 0.1, np.random.RandomState(0))
