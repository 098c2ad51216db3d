"""What a run's model gets right and wrong on the test set, at its latest completed epoch.

``analyse`` is pure NumPy (tested without Streamlit); ``render_analysis`` draws it: test accuracy,
the confusion matrix (choosing a cell shows those test images), the most confidently wrong
digits, per-class accuracy and the first-layer weights (for a CNN its first conv layer's filters and
the feature maps of a chosen test image, ``cnn_analysis``). Results are cached per
(run, reset generation, epoch) in session state, so redraws cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import streamlit as st

from nn_core.data.registry import get_dataset_info
from nn_core.metrics import confusion_matrix, per_class_report
from nn_core.network import Network
from ui.diagram.one_image import image_diagram_section
from ui.training import cnn_analysis as cnn
from ui.training import figures as tf
from ui.training.data import test_set
from ui.training.view import RunView

CACHE = "train_analysis_cache"
CELL = "train_cell_"  # + run id: the chosen cell of the confusion matrix
GALLERY = 24
DIAGONAL = "_diagonal"  # + cell key: the class of a clicked diagonal cell (its correct answers are shown)


@dataclass(frozen=True)
class Analysis:
    """Predictions of one network on the test set."""

    pred: np.ndarray  # (n,) predicted class
    confidence: np.ndarray  # (n,) probability of the predicted class
    confusion: np.ndarray  # (k, k) row = true, column = predicted
    recall: np.ndarray  # (k,) per-class accuracy
    accuracy: float
    log_loss: float | None  # mean cross-entropy for softmax outputs, else None


def analyse(network: Network, X: np.ndarray, y: np.ndarray) -> Analysis:
    """Predict X (n, 784) float32 and compare with labels y (n,)."""
    probs = network.predict_proba(X)  # (n, k)
    pred = probs.argmax(axis=1)
    confidence = probs[np.arange(len(y)), pred]
    k = network.config.n_classes
    confusion = confusion_matrix(y, pred, k)
    log_loss = None
    if network.config.output == "softmax":
        log_loss = float(-np.mean(np.log(np.maximum(probs[np.arange(len(y)), y], 1e-12))))
    return Analysis(
        pred=pred,
        confidence=confidence,
        confusion=confusion,
        recall=per_class_report(confusion)["recall"],
        accuracy=float(np.mean(pred == y)),
        log_loss=log_loss,
    )


def cell_examples(analysis: Analysis, y: np.ndarray, true: int, pred: int, limit: int = 40) -> np.ndarray:
    """Indices of test images of class ``true`` predicted as ``pred``, most confident first."""
    idx = np.flatnonzero((y == true) & (analysis.pred == pred))
    return idx[np.argsort(-analysis.confidence[idx], kind="stable")][:limit]


def confident_mistakes(analysis: Analysis, y: np.ndarray, limit: int = GALLERY) -> np.ndarray:
    """Indices of wrongly predicted test images, most confident first."""
    idx = np.flatnonzero(analysis.pred != y)
    return idx[np.argsort(-analysis.confidence[idx], kind="stable")][:limit]


def worst_cells(confusion: np.ndarray) -> list[tuple[int, int]]:
    """Off-diagonal cells (true, predicted), most errors first."""
    k = confusion.shape[0]
    cells = [(t, p) for t in range(k) for p in range(k) if t != p]
    return sorted(cells, key=lambda c: -confusion[c])


def _cached(view: RunView, network: Network, X: np.ndarray, y: np.ndarray) -> Analysis:
    key = (view.run_id, view.generation, view.epochs_done, view.version if view.source == "uploaded" else 0)
    cache: dict = st.session_state.setdefault(CACHE, {})
    if key not in cache:
        while len(cache) >= 4:
            cache.pop(next(iter(cache)))
        cache[key] = analyse(network, X, y)
    return cache[key]


def least_confident_correct(analysis: Analysis, y: np.ndarray, label: int, limit: int = 40) -> np.ndarray:
    """Indices of test images of class ``label`` predicted correctly, least confident first."""
    idx = np.flatnonzero((y == label) & (analysis.pred == label))
    return idx[np.argsort(analysis.confidence[idx], kind="stable")][:limit]


def _on_cell_click(chart_key: str, cell_key: str) -> None:
    points = st.session_state[chart_key]["selection"]["points"]
    if points:
        true, pred = int(round(points[0]["y"])), int(round(points[0]["x"]))
        if true == pred:  # a diagonal cell: its correct answers, shown in place of the errors
            st.session_state[cell_key + DIAGONAL] = true
            return
        st.session_state[cell_key] = (true, pred)
        _mark_chosen(cell_key)


def _mark_chosen(cell_key: str) -> None:
    st.session_state[cell_key + "_chosen"] = True
    st.session_state.pop(cell_key + DIAGONAL, None)


def _gallery(images: np.ndarray, indices: np.ndarray, captions: list[str], size: int = 84) -> None:
    if len(indices) == 0:
        st.caption("No test images here.")
        return
    st.html(tf.gallery_html(images[indices], captions, size=size))


def render_analysis(view: RunView, network: Network | None) -> None:
    """The test-set analysis of ``network`` (the run's snapshot)."""
    if network is None:
        st.info("This run's model could not be read from disk.", icon=":material/error:")
        return
    if view.active and not st.button(
        "Analyse the model at its latest finished epoch",  # no number: this part is not redrawn per epoch
        icon=":material/analytics:",
        key="train_analyse_now",
        help="Training goes on meanwhile. The analysis appears by itself when the run pauses or ends.",
    ):
        st.caption(
            "The run is training: the test-set analysis appears when it pauses or ends, or on request."
        )
        return
    X, y, images = test_set(view.train_config.dataset)
    names = get_dataset_info(view.train_config.dataset).class_names
    result = _cached(view, network, X, y)
    when = f"after epoch {view.epochs_done}" if view.epochs_done else "before training (initial weights)"
    st.markdown(f"**{view.name}** on the {len(y):,} test images, {when}.")
    m1, m2, m3 = st.columns(3)
    m1.metric("Test accuracy", f"{result.accuracy:.2%}", border=True)
    m2.metric("Test errors", f"{int(np.sum(result.pred != y)):,}", border=True)
    m3.metric(
        "Test loss (cross-entropy)",
        "n/a" if result.log_loss is None else f"{result.log_loss:.4f}",
        border=True,
    )
    left, right = st.columns([1.1, 1], gap="large")
    with left:
        st.markdown(
            "**Confusion matrix**",
            help="Rows: the true class; columns: what the network said. Click a cell (or choose it below) to see those test images; a cell on the diagonal shows the correct answers.",
        )
        chart_key, cell_key = f"train_confusion_{view.run_id}", CELL + view.run_id
        st.plotly_chart(
            tf.confusion_figure(result.confusion, names),
            key=chart_key,
            on_select=partial(_on_cell_click, chart_key, cell_key),
            selection_mode="points",
            config={"displayModeBar": False},
        )
    with right:
        cells = worst_cells(result.confusion)
        if not st.session_state.get(cell_key + "_chosen") or st.session_state.get(cell_key) not in cells:
            st.session_state[cell_key] = cells[0]  # the worst cell until the user picks one
        st.selectbox(
            "Misclassified cell",
            cells,
            key=cell_key,
            on_change=_mark_chosen,
            args=(cell_key,),
            format_func=lambda c: f"true {names[c[0]]} → predicted {names[c[1]]}",
            help="The cells of the confusion matrix off its diagonal, most errors first.",
        )
        diagonal = st.session_state.get(cell_key + DIAGONAL)
        if diagonal is not None and 0 <= diagonal < len(names):
            _correct_gallery(result, y, images, names, diagonal)
            st.caption(
                "Choose a misclassified cell above (or click one off the diagonal) to see errors again."
            )
        else:
            _error_gallery(result, y, images, names, st.session_state[cell_key])
    _rest(view, network, result, X, y, images, names)


def _correct_gallery(result: Analysis, y: np.ndarray, images: np.ndarray, names, label: int) -> None:
    idx = least_confident_correct(result, y, label, limit=GALLERY)
    count = int(result.confusion[label, label])
    st.markdown(f"**Correct: true {names[label]} → predicted {names[label]}**")
    st.caption(
        f"{count:,} test image{'s' if count != 1 else ''} of {names[label]} recognised"
        + (f"; the {len(idx)} least confident shown" if count > len(idx) else "")
        + ", with the network's confidence (the diagonal holds the correct answers)."
    )
    _gallery(images, idx, [f"{result.confidence[i]:.0%}" for i in idx], size=64)


def _error_gallery(result: Analysis, y: np.ndarray, images: np.ndarray, names, cell: tuple[int, int]) -> None:
    true, pred = cell
    idx = cell_examples(result, y, true, pred, limit=GALLERY)
    count = int(result.confusion[true, pred])
    st.caption(
        f"{count} test image{'s' if count != 1 else ''}"
        + (f", the {len(idx)} most confident shown" if count > len(idx) else "")
        + ", with the network's confidence."
    )
    _gallery(images, idx, [f"{result.confidence[i]:.0%}" for i in idx], size=64)


def _rest(
    view: RunView, network: Network, result: Analysis, X: np.ndarray, y: np.ndarray, images: np.ndarray, names
) -> None:
    st.markdown(
        "**Most confidently wrong**",
        help="Test images the network got wrong while being most sure of itself: true label, prediction and its probability.",
    )
    idx = confident_mistakes(result, y)
    _gallery(images, idx, [f"{names[y[i]]}→{names[result.pred[i]]} {result.confidence[i]:.0%}" for i in idx])
    image_diagram_section(
        network, X, y, result.pred, result.confidence, idx, names, key=f"train_diagram_{view.run_id}"
    )
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(tf.per_class_figure(result.recall, names), key=f"train_per_class_{view.run_id}")
    with right:
        if network.config.layers:  # first-layer weights as 28x28 images exist for MLPs only
            cnn.render_filters(network, f"train_filters_{view.run_id}")
        else:
            W = network.dense_layers[0].W
            st.plotly_chart(
                tf.weights_figure(W), key=f"train_weights_{view.run_id}", config={"displayModeBar": False}
            )
    if network.config.layers:
        choices = cnn.image_choices(idx, y, result.pred)
        cnn.render_maps(
            network,
            images,
            X,
            choices,
            lambda i: f"#{i}: {names[y[i]]} → {names[result.pred[i]]} ({result.confidence[i]:.0%})",
            f"train_fmaps_{view.run_id}",
        )
