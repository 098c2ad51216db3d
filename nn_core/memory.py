"""How much memory a training run needs, the budget it must fit in, and a refusal that says what to change.

``estimate_run(model, train, n_train)`` adds up the float32 arrays a run allocates: the weights, their
gradients, the optimizer's state (one buffer for SGD, two for momentum, Nesterov and RMSProp, three for
Adam, each including its scratch buffer), two weight copies (the trainer's last good epoch and the
snapshot others predict with), each layer's forward and backward buffers for one batch, the training
images as float32 (twice with augmentation: the augmented copy), the validation and test images and the
raw uint8 dataset, and the augmentation's working buffers. ``budget_bytes()`` is ``DIGIT_LAB_MEMORY_BUDGET`` (in MB) when set, else half of the
memory the kernel reports available (``MemAvailable`` in ``/proc/meminfo``), else 2 GB. ``check_run``
raises ``MemoryBudgetError`` (a ``ConfigError``) before anything is allocated.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

from nn_core.config import ConfigError, ModelConfig, TrainConfig

ENV_VAR = "DIGIT_LAB_MEMORY_BUDGET"
AVAILABLE_SHARE = 0.5  # of MemAvailable, when the budget is not set
FALLBACK_BYTES = 2 * 1024**3  # when /proc/meminfo cannot be read
F32 = 4
N_TEST = 10_000  # test images every run evaluates on
N_RAW = 70_000  # uint8 images of a dataset, read once
EVAL_BATCH = 4096  # rows per batch in Network.predict_proba
AUGMENT_WORK = 32 * 1024**2  # the warp's per-chunk buffers (512 images at a time); twice with elastic
OPTIMIZER_BUFFERS = {"sgd": 1, "momentum": 2, "nesterov": 2, "rmsprop": 2, "adam": 3}


class MemoryBudgetError(ConfigError):
    """A run whose estimated memory is above the budget; the message gives both and what to change."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs, by part."""

    params: int  # weights, gradients, optimizer state and weight copies
    activations: int  # per-batch forward/backward buffers and evaluation temporaries
    data: int  # training (and augmented), validation, test and raw images

    @property
    def total(self) -> int:
        return self.params + self.activations + self.data


def _widths(model: ModelConfig) -> tuple[int, ...]:
    return (model.n_inputs, *model.hidden, model.n_classes)


def _layers_per_image(model: ModelConfig) -> tuple[int, int, int, int]:
    """(parameters, weights, float32 training buffers per image, largest array per image) of a model
    built from ``model.layers`` (see ``nn_core.spec_layers``): a conv keeps its unfolded input, output,
    padded input and input gradients; an activation 3 arrays of its output's size; pooling 2 of its
    output's and one of its input's; batch norm 5; dropout 3; a dense layer its output and dx."""
    from nn_core.architecture import infer_shapes, input_shape

    specs = model.layers
    shape = input_shape(specs, model.n_inputs)
    per_row, params, weights, peak = model.n_inputs, 0, 0, model.n_inputs
    trainable_before = False
    for spec, out in zip(specs, infer_shapes(specs, model.n_inputs, model.n_classes), strict=True):
        n_in, n_out = math.prod(shape), math.prod(out)
        if spec.kind == "conv":
            cols = out[0] * out[1] * spec.kernel * spec.kernel * shape[-1]
            per_row += (
                cols + n_out + n_in + (2 * n_in + out[0] * out[1] * shape[-1] if trainable_before else 0)
            )
            w = spec.kernel * spec.kernel * shape[-1] * spec.filters
            params, weights, peak = params + w + spec.filters, weights + w, max(peak, cols)
        elif spec.kind == "dense":
            per_row += n_out + (n_in if trainable_before else 0)
            params, weights = params + (n_in + 1) * n_out, weights + n_in * n_out
        elif spec.kind in ("maxpool", "avgpool"):
            per_row += 2 * n_out + n_in
        elif spec.kind == "batchnorm":
            per_row += 5 * n_out
            params += 2 * shape[-1]
        else:
            per_row += 3 * n_out
        if spec.kind in ("dense", "conv", "batchnorm") and spec.activation != "linear":
            per_row += 3 * n_out
        trainable_before = trainable_before or spec.kind in ("dense", "conv", "batchnorm")
        peak, shape = max(peak, n_out), out
    n_in = math.prod(shape)
    per_row += model.n_classes + (n_in if trainable_before else 0) + 4 * model.n_classes  # output, loss
    return params + (n_in + 1) * model.n_classes, weights + n_in * model.n_classes, per_row, peak


def estimate_run(model: ModelConfig, train: TrainConfig, n_train: int) -> MemoryEstimate:
    """Estimated bytes of a run training ``model`` with ``train`` on ``n_train`` images (before the split).

    Parameters
    ----------
    model, train : the run's configs (assumed valid)
    n_train : images in the training set before the validation split (``train_size`` or the full set)
    """
    widths = _widths(model)
    n_params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
    n_weights = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    if model.layers:
        n_params, n_weights, layer_row, peak = _layers_per_image(model)
    copies = 1 + 1 + OPTIMIZER_BUFFERS.get(train.optimizer, 3) + 2  # weights, grads, optimizer, 2 copies
    params = F32 * (copies * n_params + (n_weights if train.weight_decay else 0))

    n_fit = n_train - round(n_train * train.val_fraction)
    batch = max(1, min(train.batch_size, n_fit))
    per_row = model.n_inputs  # the gathered batch
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        per_row += n_out + (n_in if i > 0 else 0)  # Dense output and input gradient
    per_hidden = 3 + (3 if model.dropout > 0 else 0)  # activation out, dx, mask; dropout mask, out, dx
    per_row += per_hidden * sum(model.hidden) + 4 * model.n_classes  # loss buffers
    eval_rows = min(EVAL_BATCH, max(n_fit, N_TEST))
    evaluation = 2 * eval_rows * max(widths)  # one layer's input and output at a time
    if model.layers:  # inference runs in chunks whose largest array stays near INFER_VALUES
        from nn_core.spec_layers import INFER_VALUES

        per_row = layer_row
        evaluation = 3 * min(eval_rows, max(16, INFER_VALUES // peak)) * peak
    activations = F32 * (batch * per_row + evaluation)

    pixels = model.n_inputs
    images = (2 if train.augment else 1) * n_fit + (n_train - n_fit) + N_TEST
    data = F32 * pixels * images + N_RAW * pixels
    if train.augment:
        data += AUGMENT_WORK * (2 if train.elastic else 1)
    return MemoryEstimate(params, activations, data)


def budget_bytes() -> int:
    """The memory a run may use: ``DIGIT_LAB_MEMORY_BUDGET`` MB, else half of MemAvailable, else 2 GB."""
    text = os.environ.get(ENV_VAR, "").strip()
    if text:
        try:
            mb = float(text)
        except ValueError:
            raise ConfigError(f"{ENV_VAR}={text!r:.40} is not a number of megabytes (e.g. 4000)") from None
        if not (math.isfinite(mb) and mb > 0):
            raise ConfigError(f"{ENV_VAR} must be a positive number of megabytes, got {text!r:.40}")
        return int(mb * 1024**2)
    available = _mem_available()
    return int(available * AVAILABLE_SHARE) if available else FALLBACK_BYTES


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def human(n: float) -> str:
    """Bytes as '9.6 GB' / '310 MB' / '52 kB'."""
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    if n >= 1e6:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e3:.0f} kB"


def check_run(
    model: ModelConfig, train: TrainConfig, n_train: int, budget: int | None = None
) -> MemoryEstimate:
    """The run's estimate; ``MemoryBudgetError`` naming the setting to change when above the budget."""
    budget = budget_bytes() if budget is None else budget
    est = estimate_run(model, train, n_train)
    if est.total <= budget:
        return est
    raise MemoryBudgetError(
        f"{_culprit(model, train, n_train, est, budget)}: {_advice(model, train, n_train, budget)}"
    )


def _culprit(model: ModelConfig, train: TrainConfig, n_train: int, est: MemoryEstimate, budget: int) -> str:
    parts = {
        f"batch size {train.batch_size}": est.activations,
        _network_text(model): est.params,
        f"{n_train:,} training images{' with augmentation' if train.augment else ''}": est.data,
    }
    main = max(parts, key=parts.get)
    return f"{main} needs ~{human(est.total)} in all; the memory budget is {human(budget)}"


def _network_text(model: ModelConfig) -> str:
    if model.layers:
        from nn_core.model_summary import architecture_string

        return f"the network {architecture_string(model)}"
    return f"a network of {len(model.hidden)} hidden layers ({'-'.join(map(str, model.hidden))})"


def _advice(model: ModelConfig, train: TrainConfig, n_train: int, budget: int) -> str:
    tips = []
    batch = train.batch_size
    while batch > 1:
        batch = 2 ** (math.ceil(math.log2(batch)) - 1)
        if estimate_run(model, dataclasses.replace(train, batch_size=batch), n_train).total <= budget:
            tips.append(f"use a batch of {batch}")
            break
    if not tips:
        tips.append("use fewer or narrower layers")
    elif model.hidden and max(model.hidden) > 512:
        tips.append("use fewer or narrower layers")
    if train.augment:
        tips.append("switch augmentation off")
    return f"{', or '.join(tips)}, or set {ENV_VAR} (in MB)"
