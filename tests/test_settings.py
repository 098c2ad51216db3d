"""The settings schema (nn_core.settings) and the values and links derived from it (nn_core.links)."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest

from nn_core import links
from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.data.registry import DATASETS
from nn_core.presets import PRESETS
from nn_core.settings import GROUPS, all_settings, check_settings, get_setting, setting, settings_of, snap

NOT_SETTINGS = {"n_inputs", "n_classes"}  # fixed by the dataset, never set by a person
NOT_SETTINGS |= {"layers"}  # layer specs: their own grammar (nn_core.architecture), flag --layers


def test_every_field_a_person_sets_is_declared_once_with_help_and_group():
    fields = {f.name for cls in (ModelConfig, TrainConfig) for f in dataclasses.fields(cls)}
    names = [s.name for s in all_settings()]
    assert set(names) == fields - NOT_SETTINGS and len(names) == len(set(names))
    for s in all_settings():
        assert s.group in GROUPS and len(s.help) > 20 and s.label, s.name
        assert s.kind in ("int", "float", "bool", "choice", "ints", "choices"), s.name
        owner = ModelConfig if s.owner == "model" else TrainConfig
        assert s.default == owner.__dataclass_fields__[s.name].default
    shorts = [s.short for s in all_settings() if s.short]
    flags = [s.flag for s in all_settings()]
    assert len(shorts) == len(set(shorts)) and len(flags) == len(set(flags))
    assert get_setting("activations").flag == "activation" and get_setting("batch_size").flag == "batch-size"
    assert get_setting("leaky_slope").short is None  # on the command line, not in the playground


def test_kinds_follow_the_field_types():
    kinds = {s.name: s.kind for s in all_settings()}
    assert kinds["hidden"] == "ints" and kinds["activations"] == "choices"
    assert kinds["lr"] == "float" and kinds["epochs"] == "int" and kinds["augment"] == "bool"
    assert kinds["optimizer"] == "choice" and kinds["dataset"] == "choice"


def test_choices_read_from_a_function_follow_the_registry(monkeypatch):
    monkeypatch.setitem(DATASETS, "tiny-test", DATASETS["mnist"])
    assert "tiny-test" in get_setting("dataset").choices
    TrainConfig(dataset="tiny-test").validate()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("epochs", "1 to 10000"),
        ("lr", "above 0 and at most 100"),
        ("momentum", "in [0, 1)"),
        ("weight_decay", "in [0, 1]"),
        ("batch_size", "at least 1"),
        ("seed", "0 or more"),
        ("gamma", "above 0 and at most 1"),
        ("decay", "at least 0"),
    ],
)
def test_range_text_says_the_declared_range(name, text):
    assert get_setting(name).range_text() == text


def _outside(s) -> list[float]:
    """Values just outside the declared range, plus the non-finite ones for floats."""
    bad = []
    if s.min is not None:
        bad.append(s.min if s.min_open else s.min - (1 if s.kind in ("int", "ints") else 1e-6))
    if s.max is not None:
        bad.append(s.max if s.max_open else s.max + (1 if s.kind in ("int", "ints") else 1e-6))
    if s.kind == "float":
        bad += [math.nan, math.inf]
    return bad


@pytest.mark.parametrize(
    "s", [s for s in all_settings() if s.kind in ("int", "float", "ints")], ids=lambda s: s.name
)
def test_validate_refuses_each_value_outside_the_declared_range(s):
    config = ModelConfig() if s.owner == "model" else TrainConfig()
    check_settings(config)
    for value in _outside(s):
        value = (int(value),) if s.kind == "ints" else value
        changes = {s.name: value, **({"activations": ("relu",)} if s.kind == "ints" else {})}
        with pytest.raises(ConfigError, match=s.label.split("(")[0].strip()[:20]):
            dataclasses.replace(config, **changes).validate()


@pytest.mark.parametrize(
    "s", [s for s in all_settings() if s.kind in ("choice", "choices")], ids=lambda s: s.name
)
def test_validate_refuses_an_unknown_choice(s):
    config = ModelConfig() if s.owner == "model" else TrainConfig()
    value = ("swish",) if s.kind == "choices" else "swish"
    with pytest.raises(ConfigError, match=f"unknown {s.label} 'swish': choose one of"):
        dataclasses.replace(config, **{s.name: value}).validate()


def test_every_value_a_playground_control_offers_is_valid():
    for s in links.link_settings():
        stops = list(s.grid) if s.log else list(s.span or ()) if s.kind in ("int", "float") else []
        for value in stops:
            model, train = links.configs_from_values({**links.default_values(), s.name: value})
            model.validate()
            train.validate()


def test_a_new_setting_is_one_field_declaration():
    @dataclass(frozen=True)
    class Extra:
        warmup: int = field(
            default=0, metadata=setting("warm-up epochs", min=0, max=50, group="Optimisation", help="x" * 30)
        )
        note: str = "plain field, not a setting"

    (s,) = settings_of(Extra)
    assert (s.name, s.kind, s.flag, s.range_text()) == ("warmup", "int", "warmup", "0 to 50")
    with pytest.raises(ConfigError, match="warm-up epochs must be 0 to 50, got 51"):
        check_settings(Extra(warmup=51))


def test_an_unknown_group_is_refused_at_declaration():
    with pytest.raises(ValueError, match="group must be one of"):
        setting("x", group="Misc", help="y")


def test_snap_is_log_or_linear():
    assert snap(0.0123, get_setting("lr").grid) == pytest.approx(0.013)
    assert snap(0.0, get_setting("weight_decay").grid) == 0.0
    assert snap(2499, (1000.0, 2000.0, 3000.0), log=False) == 2000.0


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if not p.model.layers])  # links: MLPs
def test_values_round_trip_every_preset(name):
    preset = PRESETS[name]
    model, train = links.configs_from_values(links.values_from_configs(preset.model, preset.train))
    assert model == preset.model
    # the decay slider has no 0: a schedule that ignores the decay gets the slider's first stop
    unused = {} if preset.train.schedule == "inverse" else {"decay": train.decay}
    assert train == dataclasses.replace(preset.train, val_fraction=train.val_fraction, **unused)
    assert train.val_fraction == pytest.approx(preset.train.val_fraction, abs=1e-4)


def test_link_parameters_round_trip_and_open_from_any_form():
    values = {**links.default_values(), "hidden": (64, 32), "activations": ("tanh", "relu"), "lr": 0.003}
    values.update(optimizer="adam", schedule="step", augment=True, elastic=True, train_size=60_000, seed=7)
    query = urlencode(links.encode(values))
    expected = links.configs_from_values(values)
    assert expected[1].train_size == 0 and expected[1].elastic  # 60,000 is the whole set
    for text in (f"http://localhost:8501/training?{query}&owner=0123456789abcdef", f"?{query}", query):
        assert links.configs_from_link(text) == expected


def test_elastic_is_off_without_augmentation():
    values = {**links.default_values(), "augment": False, "elastic": True}
    assert not links.configs_from_values(values)[1].elastic


@pytest.mark.parametrize(
    ("text", "message"),
    [("lr=fast", "lr=fast"), ("http://host/page?colour=red", "no playground settings"), ("n=500", "n=500")],
)
def test_a_bad_link_is_refused_with_its_problems(text, message):
    with pytest.raises(ConfigError, match=message):
        links.configs_from_link(text)


def test_the_schema_works_without_streamlit():
    code = "import sys, nn_core.settings, nn_core.links; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
