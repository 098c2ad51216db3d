"""Bad files and links: each is refused with its documented error type and a message, before it costs memory.

The cases a tester found (a model whose learning rate is text, a null model_config, absurd sizes, a small
file claiming a huge network, a decompression bomb, damaged run files and digit sets) come first; then
hypothesis fuzzes the model-file reader (random bytes, mutated valid files, random JSON settings), the
IDX reader and the playground's URL parser. Only ``ModelFileError``, ``DataError``, ``RunStoreError``,
``DigitSetError`` and ``ConfigError`` may come out, and never a MemoryError.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import re
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nn_core import fields
from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.data.local import DataError, read_idx
from nn_core.network import build_network, param_shapes
from nn_core.store import runstore
from nn_core.store.model_file import ModelFileError, SavedModel, load_model, model_to_bytes
from nn_core.store.my_digits import DamagedDigitsError, DigitSet, digitset_from_bytes, digitset_to_bytes
from nn_core.train import EpochMetrics
from ui.training import params as tp

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIG = ModelConfig(hidden=(16, 8), activations=("relu", "tanh"))
HISTORY = [EpochMetrics(1, 0.9, 0.7, 0.8, 0.75, 0.05, 1.0, 1000.0)]


def _good() -> bytes:
    network = build_network(CONFIG, np.random.default_rng(0))
    return model_to_bytes(SavedModel(network, TrainConfig(epochs=3), list(HISTORY), "mnist", 0.75))


GOOD = _good()


def _arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _with_meta(change) -> bytes:
    """GOOD with its JSON settings passed through ``change(meta) -> meta``."""
    arrays = _arrays(GOOD)
    arrays["meta"] = np.array(json.dumps(change(json.loads(str(arrays["meta"])))))
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _set(path: str, value):
    def change(meta):
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        node[last] = value
        return meta

    return change


@pytest.fixture
def nothing_built_or_inflated(monkeypatch):
    """Fail the test if a network is built or a weight entry is decompressed (a refusal must come first)."""
    from nn_core.store import model_file, npz_reader

    def no_build(*args, **kwargs):
        raise AssertionError("a network was built before the file was refused")

    real_array = npz_reader.NpzReader.array

    def array(self, name):
        if name.startswith("param/"):
            raise AssertionError(f"{name} was decompressed before the file was refused")
        return real_array(self, name)

    monkeypatch.setattr(model_file, "build_network", no_build)
    monkeypatch.setattr(npz_reader.NpzReader, "array", array)


# ----- the tester's model files ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("train_config.lr", "abc", "TrainConfig.lr must be a number, got the text 'abc'"),
        ("train_config.epochs", True, "must be a whole number"),
        ("train_config.augment", 1, "must be true or false"),
        ("train_config.momentum", None, "must be a number"),
        ("model_config.hidden", [16, "8"], r"hidden\[1\] must be a whole number"),
        ("model_config.dropout", 1e999, "finite"),
        ("model_config.n_inputs", 2_000_000, "at most 65,536 inputs"),
        ("model_config.n_classes", 1e9, "n_classes must be a whole number"),
        ("model_config.n_classes", 1_000_000_000, "1,000 classes"),
        ("model_config", None, "ModelConfig must be a JSON object, got null"),
        ("history", [{"epoch": 1}], "epoch record lacks"),
        ("best_val_acc", "high", "best_val_acc must be a number"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_built(path, value, expected, nothing_built_or_inflated):
    data = _with_meta(_set(path, value))
    with pytest.raises(ModelFileError) as caught:
        load_model(data)
    assert "cannot use" in str(caught.value)
    assert re.search(expected, str(caught.value)), str(caught.value)


def test_the_guard_does_catch_building(nothing_built_or_inflated):
    with pytest.raises(AssertionError, match="decompressed"):
        load_model(GOOD)


def test_a_small_file_claiming_a_huge_network_is_refused_from_its_headers(nothing_built_or_inflated):
    """8 hidden layers of 4096 in the settings, small weights in the file: no network is built."""
    wide = (4096,) * 8
    data = _with_meta(_set("model_config", {"hidden": list(wide), "activations": ["relu"] * 8}))
    assert len(data) < 200_000
    with pytest.raises(ModelFileError, match="do not fit"):
        load_model(data)


def _bomb(entry_bytes: int) -> bytes:
    """A model file whose weight entry claims (and inflates to) ``entry_bytes`` of zeros."""
    arrays = _arrays(GOOD)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, array in arrays.items():
            if key != "param/0.W":
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, array)
                zf.writestr(key + ".npy", buffer.getvalue())
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f4", "fortran_order": False, "shape": (entry_bytes // 4,)}
        )
        with zf.open("param/0.W.npy", "w", force_zip64=True) as handle:
            handle.write(header.getvalue())
            chunk = bytes(1 << 22)
            for _ in range(entry_bytes // len(chunk)):
                handle.write(chunk)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_without_inflating_it(nothing_built_or_inflated):
    data = _bomb(64 << 20)
    assert len(data) < 1 << 20
    with pytest.raises(ModelFileError, match="packed into"):
        load_model(data)


def test_a_model_above_the_memory_budget_is_refused_before_reading_its_weights(monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_MEMORY_BUDGET", "0.1")  # 100 kB; the model's weights take 51 kB
    with pytest.raises(
        ModelFileError,
        match="holds 51 kB of weights.*more than the memory budget of 105 kB.*DIGIT_LAB_MEMORY_BUDGET",
    ):
        load_model(GOOD)
    monkeypatch.setenv("DIGIT_LAB_MEMORY_BUDGET", "1")
    assert load_model(GOOD).network.config == CONFIG


def test_pickles_and_foreign_entries_are_never_read():
    arrays = _arrays(GOOD)
    for extra in ({"evil": np.array([{}], dtype=object)}, {"notes": np.array(["hello"])}):
        out = io.BytesIO()
        np.savez(out, **arrays, **extra)
        with pytest.raises(ModelFileError, match="Python objects|do not fit"):
            load_model(out.getvalue())


def test_every_config_field_has_a_type_the_reader_can_check():
    """A field added to a config (e.g. layers for convolutions) must be checkable from a file."""
    for cls in (ModelConfig, TrainConfig, EpochMetrics):
        assert fields.supported(cls), cls
    for f in dataclasses.fields(TrainConfig):
        wrong = "text" if f.type != "str" else 5
        with pytest.raises(ConfigError, match=f.name):
            TrainConfig.from_dict({f.name: wrong})


def test_param_shapes_match_the_built_network():
    for config in (CONFIG, ModelConfig(hidden=(5, 4, 3), activations=("relu",) * 3, dropout=0.3)):
        built = build_network(config, np.random.default_rng(0)).params()
        assert {k: v.shape for k, v in built.items()} == param_shapes(config)


# ----- run files and digit sets ------------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    return tmp_path


def _run_file(change) -> tuple[str, Path]:
    record = runstore.RunRecord(runstore.new_id(), "owner-abcd", "Run 1", CONFIG, TrainConfig())
    runstore.save_run(record)
    path = runstore.run_dir(record.run_id) / runstore.RUN_FILE
    path.write_text(change(path.read_text()))
    return record.run_id, path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t[: len(t) // 2], "damaged"),
        (lambda t: t.replace('"lr": 0.05', '"lr": "abc"'), "TrainConfig.lr must be a number"),
        (lambda t: t.replace('"generation": 0', '"generation": "0"'), "generation must be a whole number"),
        (lambda t: t.replace('"history": []', '"history": {}'), "history must be a list"),
        (lambda t: t.replace('"test": null', '"test": {"acc": 1}'), "test must hold"),
        (lambda t: "[" * 100_000, "damaged"),
    ],
)
def test_damaged_run_files_are_refused_and_listed_as_damaged(home, change, expected):
    run_id, path = _run_file(change)
    with pytest.raises(runstore.RunStoreError, match=expected):
        runstore.load_run(run_id)
    assert runstore.list_runs("owner-abcd") == []
    damaged = runstore.list_damaged_runs("owner-abcd")
    if "[" * 10 in path.read_text()[:20]:
        assert damaged == []  # no owner to be found: shown to no one
        return
    assert [d.run_id for d in damaged] == [run_id] and str(path) in damaged[0].reason
    runstore.delete_run(run_id, "owner-abcd")
    assert not path.parent.exists()


def _digits_bytes(**changes) -> bytes:
    digits = DigitSet(
        np.zeros((2, 28, 28), np.uint8), np.array([1, 2], np.uint8), np.array([1, 2]), np.zeros(2), 3
    )
    arrays = _arrays(digitset_to_bytes(digits))
    arrays.update(changes)
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _digits_bytes(images=np.array([{}], dtype=object)),
        _digits_bytes(images=np.zeros((2, 28, 27), np.uint8)),
        _digits_bytes(labels=np.array([1, 12], np.uint8)),
        _digits_bytes(ids=np.array([1, 1])),
        _digits_bytes(extra=np.zeros(3)),
        _digits_bytes(images=np.zeros((20_000, 28, 28), np.uint8), labels=np.zeros(20_000, np.uint8)),
        b"PK\x03\x04 cut short",
    ],
    ids=["pickle", "shape", "label", "ids", "extra", "too-many", "truncated"],
)
def test_damaged_digit_sets_say_damaged_and_never_suggest_pickles(data):
    with pytest.raises(DamagedDigitsError) as caught:
        digitset_from_bytes(data, "my-digits.npz")
    text = str(caught.value)
    assert "my-digits.npz is damaged" in text and "Keep a copy" in text and "pickle" not in text


def test_my_digits_in_a_folder_that_cannot_be_made(tmp_path):
    from nn_core.store.my_digits import DigitSetError, add_digit

    blocker = tmp_path / "home"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DigitSetError, match="Cannot save My digits.*DIGIT_LAB_HOME"):
        add_digit(np.ones((28, 28), np.float32), 3, path=blocker / "digits" / "my-digits.npz")


# ----- fuzzing -------------------------------------------------------------------------------------
def _refused_or_loaded(data: bytes) -> None:
    try:
        model = load_model(data)
    except ModelFileError as err:
        assert str(err)
        return
    # whatever loads is usable by the pages: typed settings, finite weights
    config = model.train_config or TrainConfig()
    f"{config.lr:g} {config.batch_size:d} {model.network.config.hidden}"  # noqa: B018
    assert all(np.isfinite(w).all() for w in model.network.params().values())


@FUZZ
@given(st.binary(max_size=2048), st.booleans())
def test_fuzz_random_bytes_as_a_model_file(data, zip_magic):
    _refused_or_loaded(b"PK\x03\x04" + data if zip_magic else data)


@FUZZ
@given(st.data())
def test_fuzz_mutated_valid_model_files(data):
    raw = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    _refused_or_loaded(bytes(raw))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
META_KEYS = st.sampled_from(
    [f"model_config.{f.name}" for f in dataclasses.fields(ModelConfig)]
    + [f"train_config.{f.name}" for f in dataclasses.fields(TrainConfig)]
    + ["model_config", "train_config", "history", "dataset", "best_val_acc", "saved_at"]
)


@FUZZ
@given(st.lists(st.tuples(META_KEYS, JSON), min_size=1, max_size=3))
def test_fuzz_model_file_settings(changes):
    def change(meta):
        for path, value in changes:
            try:
                _set(path, value)(meta)
            except (KeyError, TypeError):
                pass  # the parent was replaced by something that is not an object
        return meta

    _refused_or_loaded(_with_meta(change))


@FUZZ
@given(JSON)
def test_fuzz_whole_settings_json(meta):
    _refused_or_loaded(_with_meta(lambda _: meta))


_IDX_DIR = Path(tempfile.mkdtemp(prefix="idx-fuzz-"))


@FUZZ
@given(
    st.binary(max_size=512),
    st.sampled_from(["raw", "gzip", "header"]),
    st.lists(st.integers(0, 2**32 - 1), max_size=3),
)
def test_fuzz_the_idx_reader(body, kind, dims):
    if kind == "header":  # a plausible header with any dimensions, then the body
        body = (
            struct.pack(">I", 2051 if len(dims) == 3 else 2049) + struct.pack(f">{len(dims)}I", *dims) + body
        )
    data = gzip.compress(body) if kind != "raw" else body
    path = _IDX_DIR / "file-idx-ubyte.gz"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except DataError as err:
        assert str(err)
        return
    assert array.dtype == np.uint8


def test_a_gzip_bomb_idx_file_is_refused_without_inflating_it(tmp_path, monkeypatch):
    from nn_core.data import idx

    monkeypatch.setattr(idx, "MAX_IDX_BYTES", 1 << 20)
    path = tmp_path / "bomb-idx3-ubyte.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    path.write_bytes(compressor.compress(bytes(8 << 20)) + compressor.flush())
    with pytest.raises(DataError, match="more than"):
        read_idx(path)


URL_KEYS = st.sampled_from([key for key, _, _ in tp.FIELDS.values()] + ["owner", "junk"])
URL_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["nan", "inf", "-1", "1e400", "0", "60000", "4096-4096-4096-4096-4096-4096-4096-4096", "1_0"]
    ),
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(str),
)


@FUZZ
@given(st.dictionaries(URL_KEYS, URL_TEXT, max_size=8))
def test_fuzz_the_playground_url_parser(params):
    values, problems = tp.params_to_values(params)
    assert all(isinstance(p, str) for p in problems)
    try:
        tp.build_configs(values)  # what the page does next
    except ConfigError as err:
        assert str(err)


def test_devices_and_folders_are_not_read_as_files(tmp_path):
    """/dev/zero reports size 0 and never ends: it must be refused before reading."""
    from nn_core.store.my_digits import DigitSetError, load_digits

    for path in (Path("/dev/zero"), tmp_path):
        with pytest.raises(ModelFileError, match="not a regular file"):
            load_model(path)
        with pytest.raises(DigitSetError, match="not a regular file"):
            load_digits(path)
