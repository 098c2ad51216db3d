"""Registry of the datasets Digit Lab knows: MNIST and Fashion-MNIST.

Both ship as the same four gzip-compressed IDX files. Each entry records a display title, the class
names in label order, the SHA-256 of every file (so a download or a cached copy can be checked), and
several public mirrors tried in order. Nothing here touches the disk or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

#: The four canonical file names, in download order (small label files first within each split).
FILE_NAMES: tuple[str, ...] = (TRAIN_LABELS, TRAIN_IMAGES, TEST_LABELS, TEST_IMAGES)

#: split name -> (images file, labels file)
SPLIT_FILES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"train": (TRAIN_IMAGES, TRAIN_LABELS), "test": (TEST_IMAGES, TEST_LABELS)}
)


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset: where to get it and how to check it.

    Attributes
    ----------
    name : str
        Registry key, also the folder name under the data root ("mnist").
    title : str
        Human-readable name ("MNIST").
    class_names : tuple of str
        Name of each class, indexed by label value.
    files : mapping of str to str
        File name -> expected SHA-256 (lower-case hex). Stored read-only.
    mirrors : tuple of str
        Base URLs (ending in "/") tried in order; a file's URL is base + file name.
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    files: Mapping[str, str] = field(hash=False)
    mirrors: tuple[str, ...]

    def __post_init__(self) -> None:
        # Copy then wrap, so neither the caller's dict nor the attribute can change the entry.
        object.__setattr__(self, "files", MappingProxyType({k: v.lower() for k, v in self.files.items()}))
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "mirrors", tuple(m if m.endswith("/") else m + "/" for m in self.mirrors))

    def __reduce__(self):  # mappingproxy cannot be pickled; rebuild from a plain dict instead
        return (type(self), (self.name, self.title, self.class_names, dict(self.files), self.mirrors))

    @property
    def n_classes(self) -> int:
        """Number of classes (labels run from 0 to n_classes - 1)."""
        return len(self.class_names)

    def urls(self, file_name: str) -> tuple[str, ...]:
        """Candidate URLs for one file, one per mirror, in the order to try them."""
        if file_name not in self.files:
            raise ValueError(
                f"{file_name!r} is not a file of {self.title}; expected one of {sorted(self.files)}"
            )
        return tuple(base + file_name for base in self.mirrors)


MNIST = DatasetInfo(
    name="mnist",
    title="MNIST",
    class_names=tuple(str(d) for d in range(10)),
    files={
        TRAIN_IMAGES: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        TRAIN_LABELS: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        TEST_IMAGES: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        TEST_LABELS: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
)

FASHION_MNIST = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST",
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    files={
        TRAIN_IMAGES: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        TRAIN_LABELS: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        TEST_IMAGES: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        TEST_LABELS: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
)

#: Registry key -> entry. Looked up at call time, so tests may add entries with monkeypatch.setitem.
DATASETS: dict[str, DatasetInfo] = {MNIST.name: MNIST, FASHION_MNIST.name: FASHION_MNIST}


def get_dataset_info(name: str) -> DatasetInfo:
    """Registry entry for ``name`` ("mnist" or "fashion-mnist").

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the valid names.
    """
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in sorted(DATASETS))
        raise ValueError(f"Unknown dataset {name!r}; choose one of {valid}.") from None


def split_files(split: str) -> tuple[str, str]:
    """(images file, labels file) for a split, "train" or "test"."""
    try:
        return SPLIT_FILES[split]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown split {split!r}; choose 'train' or 'test'.") from None
