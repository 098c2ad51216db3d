"""Which model the Draw page predicts with, and the default model trained on first use.

The choices come from ``ui.model_choices``: runs of this session in the Training playground (a fresh snapshot
on every prediction, so a run that is training or paused can be tried as it is), then model files on
disk. With no choice at all, the default model (``nn_core.store.default_model``) is trained in a background
thread shared by every session of this server, so a rerun or a second visitor does not start it again;
the page polls its progress in a fragment and reloads when the file is saved.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from nn_core.data.local import DataError
from nn_core.data.registry import DATASETS
from nn_core.model_summary import architecture_string
from nn_core.network import Network
from nn_core.store.default_model import (
    default_configs,
    default_model_path,
    save_default_model,
    train_default_model,
)
from nn_core.store.model_file import ModelFileError
from ui.datasets import download_panel
from ui.model_choices import ModelChoice, current_model_label, load_choice, model_choices, set_current_model

POLL_SECONDS = 0.5


@dataclass
class DefaultModelJob:
    """Training of the default model in a thread; fields are read by the page while it runs."""

    path: Path
    fraction: float = 0.0
    message: str = "Waiting to start..."
    error: str | None = None
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> None:
        """Start training unless it is running or the model file exists."""
        with self.lock:
            if self.running or self.path.exists():
                return
            self.fraction, self.message, self.error = 0.0, "Starting...", None
            self.thread = threading.Thread(target=self._run, name="default-model", daemon=True)
            self.thread.start()

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def _run(self) -> None:
        try:
            model = train_default_model(progress=self._progress)
            save_default_model(model, self.path)
        except DataError as err:
            self.error = str(err)
        except Exception as err:  # noqa: BLE001 - shown to the person, who can retry
            self.error = f"Training the default model failed: {err}"


@st.cache_resource(show_spinner=False)
def _job_for(path: str) -> DefaultModelJob:
    """One job per model path and server process (shared by all sessions)."""
    return DefaultModelJob(Path(path))


def default_model_job() -> DefaultModelJob:
    return _job_for(str(default_model_path()))


@st.fragment(run_every=POLL_SECONDS)
def _training_progress(job: DefaultModelJob) -> None:
    """Progress of the default model's training; reloads the page when it is done or failed."""
    if job.error is not None or (not job.running and job.path.exists()):
        st.rerun()
    st.progress(min(max(job.fraction, 0.0), 1.0), text=job.message)


def default_model_panel() -> None:
    """No model exists yet: get MNIST if needed, then train the default model with a progress bar."""
    model_config, train_config = default_configs()
    shape = architecture_string(model_config)
    st.info(
        f"No model yet, so Digit Lab trains its **default model** now: a {shape} network (the `fast` preset, "
        f"{train_config.epochs} epochs with augmentation) on the 60,000 MNIST training digits. This happens "
        "once: it is saved, and later visits start at once. (Or train your own in the Training playground.)",
        icon=":material/model_training:",
    )
    if not download_panel("mnist", key="draw_download_mnist"):
        return
    job = default_model_job()
    if job.error is not None:
        st.error(job.error, icon=":material/error:")
        if st.button("Try again", key="draw_retry_default", icon=":material/refresh:"):
            job.error = None
            st.rerun()
        return
    job.start()
    _training_progress(job)


def _choice_caption(choice: ModelChoice) -> str:
    if choice.kind == "live":
        return f"{choice.label} (playground run, live)"
    return choice.label


def choose_model() -> ModelChoice | None:
    """The model picker; None while no model exists (the default model panel is shown instead)."""
    choices = model_choices()
    if not choices:
        default_model_panel()
        return None
    labels = [c.label for c in choices]
    current = current_model_label()
    if st.session_state.get("draw_model") not in labels:
        st.session_state["draw_model"] = current if current in labels else labels[0]
    by_label = {c.label: c for c in choices}
    label = st.selectbox(
        "Model",
        labels,
        key="draw_model",
        format_func=lambda name: _choice_caption(by_label[name]),
        help="Runs of the Training playground come first (used as they are right now, even mid-training), "
        "then saved models, newest first.",
    )
    set_current_model(label)
    return by_label[label]


def class_names(choice: ModelChoice) -> tuple[str, ...]:
    """Class names of the choice's dataset (the digits 0-9 when it is not known, as for model files)."""
    info = DATASETS.get(choice.dataset)
    return info.class_names if info is not None else tuple(str(d) for d in range(10))


def load_network(choice: ModelChoice, quiet: bool = False) -> Network | None:
    """The chosen network, or None with a message shown (a live run with no weights, a damaged file).

    ``quiet`` shows no message (for a second use on the same page).
    """
    if quiet:
        try:
            network = load_choice(choice)
        except (ModelFileError, OSError):
            return None
        return network if network is not None and network.config.n_inputs == 784 else None
    try:
        network = load_choice(choice)
    except ModelFileError as err:
        st.error(f"This model file cannot be used: {err}. Choose another model.", icon=":material/error:")
        return None
    except FileNotFoundError:
        st.error("This model file has just been removed. Choose another model.", icon=":material/error:")
        return None
    if network is None:
        st.info(
            "This run has no weights yet: start it in the Training playground.", icon=":material/hourglass:"
        )
        return None
    if network.config.n_inputs != 784:
        st.error(f"This model takes {network.config.n_inputs} inputs, not 28x28 = 784 pixels.")
        return None
    return network
