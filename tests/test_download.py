"""Tests for nn_core.data.download against a real HTTP server on 127.0.0.1 (no outside network)."""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from nn_core.data import checksums
from nn_core.data.download import download_file, ensure_dataset
from nn_core.data.local import DataUnavailableError, dataset_status, load_split
from nn_core.data.registry import DATASETS, DatasetInfo

TIMEOUT = 0.5  # seconds given to the client in the timeout tests
HOLD = 5.0  # longest a slow handler waits; released at teardown


def idx_gz(arr: np.ndarray) -> bytes:
    magic = {3: 2051, 1: 2049}[arr.ndim]
    return gzip.compress(struct.pack(f">I{arr.ndim}I", magic, *arr.shape) + arr.tobytes())


def _fixture_files() -> dict[str, bytes]:
    rng = np.random.default_rng(5)
    return {
        "train-images-idx3-ubyte.gz": idx_gz(rng.integers(0, 256, (9, 28, 28), dtype=np.uint8)),
        "train-labels-idx1-ubyte.gz": idx_gz(rng.integers(0, 10, 9, dtype=np.uint8)),
        "t10k-images-idx3-ubyte.gz": idx_gz(rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)),
        "t10k-labels-idx1-ubyte.gz": idx_gz(rng.integers(0, 10, 4, dtype=np.uint8)),
        "blob.bin": rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes(),  # several read chunks
    }


FILES = _fixture_files()
SUMS = {name: hashlib.sha256(body).hexdigest() for name, body in FILES.items()}


class Handler(BaseHTTPRequestHandler):
    """Routes: /<mode>/<file>, mode in ok, nolength, 404, truncated, wrong, slow, stall."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        _, mode, name = self.path.split("/", 2)
        body = FILES.get(name)
        if body is None or mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "slow":  # nothing at all until released
            self.server.release.wait(HOLD)
            return
        self.send_response(200)
        if mode != "nolength":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncated":  # promise everything, send half, hang up
            self.wfile.write(body[: len(body) // 2])
        elif mode == "wrong":  # right length, wrong bytes
            self.wfile.write(bytes(b ^ 0x55 for b in body))
        elif mode == "stall":  # headers and some data, then silence
            self.wfile.write(body[:1000])
            self.wfile.flush()
            self.server.release.wait(HOLD)
        else:
            self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):  # clients that time out leave broken pipes
        pass


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.requests = []
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, server):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    checksums.clear_cache()
    server.requests.clear()


def url(server, mode: str, name: str = "blob.bin") -> str:
    return f"{server.base}/{mode}/{name}"


def assert_only(directory: Path, *names: str) -> None:
    """The folder holds exactly these files: no temporary or partial leftovers."""
    assert sorted(p.name for p in directory.iterdir()) == sorted(names)


def test_download_writes_verified_file_and_reports_progress(server, tmp_path):
    calls = []
    dest = tmp_path / "sub" / "blob.bin"
    got = download_file(
        [url(server, "ok")], dest, SUMS["blob.bin"], progress=lambda d, t: calls.append((d, t))
    )
    assert got == dest and dest.read_bytes() == FILES["blob.bin"]
    size = len(FILES["blob.bin"])
    assert calls[0] == (0, size) and calls[-1] == (size, size) and len(calls) > 2
    assert all(t == size for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert_only(dest.parent, "blob.bin")


def test_progress_total_is_zero_without_content_length(server, tmp_path):
    calls = []
    dest = tmp_path / "blob.bin"
    download_file([url(server, "nolength")], dest, SUMS["blob.bin"], lambda d, t: calls.append((d, t)))
    assert dest.read_bytes() == FILES["blob.bin"]
    assert {t for _, t in calls} == {0} and calls[-1][0] == len(FILES["blob.bin"])


def test_mirrors_are_tried_in_order_until_one_works(server, tmp_path):
    dest = tmp_path / "blob.bin"
    modes = ["404", "truncated", "wrong", "ok", "nolength"]
    download_file([url(server, m) for m in modes], dest, SUMS["blob.bin"], timeout=TIMEOUT)
    assert dest.read_bytes() == FILES["blob.bin"]
    assert server.requests == [f"/{m}/blob.bin" for m in modes[:4]]  # stops at the first good one
    assert_only(tmp_path, "blob.bin")


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("404", "HTTP 404"),
        ("truncated", "cut short"),
        ("wrong", "checksum mismatch"),
        ("slow", "timed out"),
        ("stall", "timed out"),
    ],
)
def test_each_failure_leaves_nothing_behind(server, tmp_path, mode, said):
    dest = tmp_path / "blob.bin"
    with pytest.raises(DataUnavailableError) as err:
        download_file([url(server, mode)], dest, SUMS["blob.bin"], timeout=TIMEOUT)
    assert said in str(err.value) and url(server, mode) in str(err.value)
    assert_only(tmp_path)


def test_failed_download_keeps_the_old_file_untouched(server, tmp_path):
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old contents")
    with pytest.raises(DataUnavailableError):
        download_file([url(server, "truncated"), url(server, "wrong")], dest, SUMS["blob.bin"])
    assert dest.read_bytes() == b"old contents"
    assert_only(tmp_path, "blob.bin")


def test_all_mirrors_failing_lists_every_mirror(server, tmp_path):
    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}/ok/blob.bin"
    urls = [url(server, "404"), refused, url(server, "wrong")]
    with pytest.raises(DataUnavailableError) as err:
        download_file(urls, tmp_path / "blob.bin", SUMS["blob.bin"], timeout=TIMEOUT)
    message = str(err.value)
    positions = [message.index(u) for u in urls]
    assert positions == sorted(positions)
    assert "HTTP 404" in message and "checksum mismatch" in message and "refused" in message.lower()
    assert "blob.bin" in message and str(tmp_path) in message
    assert err.value.missing == ("blob.bin",) and err.value.directory == tmp_path
    assert_only(tmp_path)


def test_interrupted_download_removes_its_temp_file(server, tmp_path):
    def interrupt(done, total):
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_file(
            [url(server, "ok"), url(server, "nolength")], tmp_path / "blob.bin", SUMS["blob.bin"], interrupt
        )
    assert_only(tmp_path)
    assert len(server.requests) == 1  # an interrupt is not a mirror failure


def test_download_rejects_empty_url_list(tmp_path):
    with pytest.raises(ValueError, match="No URL"):
        download_file([], tmp_path / "x", "0" * 64)


# --- ensure_dataset and load_split(download=True) ------------------------------------------------------

DATA_FILES = [n for n in FILES if n.endswith(".gz")]


def fake_info(server, *modes: str) -> DatasetInfo:
    mirrors = tuple(f"{server.base}/{m}/" for m in modes)
    return DatasetInfo("fake", "Fake", tuple("0123456789"), {n: SUMS[n] for n in DATA_FILES}, mirrors)


def test_ensure_dataset_downloads_missing_then_nothing(server, tmp_path):
    info = fake_info(server, "404", "ok")
    seen = []
    directory = ensure_dataset("fake", tmp_path, lambda f, d, t: seen.append((f, d, t)), info=info)
    assert directory == tmp_path / "fake"
    for name in DATA_FILES:
        assert (directory / name).read_bytes() == FILES[name]
        assert (name, len(FILES[name]), len(FILES[name])) in seen
    assert_only(directory, *DATA_FILES)
    assert len(server.requests) == 2 * len(DATA_FILES)  # a 404 then a success for each
    server.requests.clear()
    ensure_dataset("fake", tmp_path, info=info)
    assert server.requests == []


def test_ensure_dataset_replaces_only_a_bad_file(server, tmp_path, monkeypatch):
    monkeypatch.setitem(DATASETS, "fake", fake_info(server, "ok"))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path))
    ensure_dataset("fake")  # registry lookup and data_root() default
    bad = tmp_path / "fake" / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(b"damaged")
    server.requests.clear()
    ensure_dataset("fake")
    assert server.requests == ["/ok/t10k-labels-idx1-ubyte.gz"]
    assert bad.read_bytes() == FILES[bad.name]
    assert set(dataset_status("fake").values()) == {"ok"}


def test_ensure_dataset_failure_names_missing_files_and_folder(server, tmp_path):
    info = fake_info(server, "404", "truncated")
    with pytest.raises(DataUnavailableError) as err:
        ensure_dataset("fake", tmp_path, info=info)
    message = str(err.value)
    assert all(name in message for name in DATA_FILES)
    assert str(tmp_path / "fake") in message and "HTTP 404" in message and "cut short" in message
    assert set(err.value.missing) == set(DATA_FILES)
    assert_only(tmp_path / "fake")


def test_load_split_downloads_and_repairs_when_allowed(server, tmp_path, monkeypatch):
    monkeypatch.setitem(DATASETS, "fake", fake_info(server, "wrong", "ok"))
    calls = []
    images, labels = load_split(
        "fake", "test", root=tmp_path, download=True, progress=lambda d, t: calls.append(t)
    )
    assert images.shape == (4, 28, 28) and labels.shape == (4,)
    assert calls and max(calls) == len(FILES["t10k-images-idx3-ubyte.gz"])
    assert_only(tmp_path / "fake", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    (tmp_path / "fake" / "t10k-images-idx3-ubyte.gz").write_bytes(b"garbage")
    server.requests.clear()
    again, _ = load_split("fake", "test", root=tmp_path, download=True)
    np.testing.assert_array_equal(again, images)
    assert server.requests == ["/wrong/t10k-images-idx3-ubyte.gz", "/ok/t10k-images-idx3-ubyte.gz"]
