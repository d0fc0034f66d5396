"""One validation mechanism for every command (issue 24, item 4).

Every command's settings are dataclasses whose fields carry their limits as
``param()`` metadata, checked by one walker, ``sim.model.validation.validate``:
the model (``ModelConfig``), ``stalemate`` (``AppConfig``), ``stalemate-fit``
(``FitApp``), ``stalemate-search`` (``SearchApp``), ``stalemate-play``
(``PlayArgs``) and ``stalemate-room`` (``RoomSettings``). These tests check the
walker itself on every ranged field of every one of them (a value just outside
is refused naming the key and the value, the limit itself is accepted), and that
a command validates a value once, however many layers look at it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.validation import ConfigError, param, refusal, validate


def _settings_classes():
    from sim.analysis.fit import FitApp, FitSettings, McmcSettings, RollingSettings
    from sim.classroom.room_app import RoomSettings
    from sim.classroom.terminal import PlayArgs
    from sim.hydra.schema import AppConfig
    from sim.model.params import ActorConfig, EventConfig, ModelConfig
    from sim.search.spec import ObjectiveSpec, PolicySearch, SearchApp

    return {
        "ModelConfig": ModelConfig,
        "ActorConfig": ActorConfig,
        "EventConfig": EventConfig,
        "AppConfig": AppConfig,
        "FitApp": FitApp,
        "FitSettings": FitSettings,
        "McmcSettings": McmcSettings,
        "RollingSettings": RollingSettings,
        "PolicySearch": PolicySearch,
        "ObjectiveSpec": ObjectiveSpec,
        "SearchApp": SearchApp,
        "PlayArgs": PlayArgs,
        "RoomSettings": RoomSettings,
    }


_UNIONS = (typing.Union, __import__("types").UnionType)


def _ranged_scalars():
    """(class name, field name, lo, hi, strict, whole) of every ranged number field."""
    out = []
    for cname, cls in _settings_classes().items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            lo, hi = f.metadata.get("range", (None, None))
            kind = hints[f.name]
            options = set(typing.get_args(kind)) if typing.get_origin(kind) in _UNIONS else set()
            base = {int, float} & ({kind} | options)
            if (lo is None and hi is None) or not base:
                continue
            out.append((cname, f.name, lo, hi, f.metadata.get("strict", False), int in base))
    return out


RANGED = _ranged_scalars()


def _instance(cname: str):
    """A default instance of a settings class (fields without defaults filled in)."""
    from sim.search.spec import LeverSpec, ObjectiveSpec, PolicySearch, SearchApp

    cls = _settings_classes()[cname]
    if cname == "PolicySearch":
        return PolicySearch(name="t", levers=[LeverSpec("relief", 0.0, 1.0)])
    if cname == "SearchApp":
        return SearchApp(policy_search=_instance("PolicySearch"))
    if cname == "ObjectiveSpec":
        return ObjectiveSpec("p_agreement")
    if cname == "RoomSettings":
        return cls(seed=1)
    return cls()


def test_every_command_declares_its_limits_as_metadata():
    """Each command's settings have ranged fields (no command checks numbers by hand)."""
    classes = {c for c, *_ in RANGED}
    assert {"ModelConfig", "AppConfig", "FitSettings", "McmcSettings", "RollingSettings",
            "FitApp", "PolicySearch", "SearchApp", "PlayArgs", "RoomSettings"} <= classes  # fmt: skip
    assert len(RANGED) >= 50


@pytest.mark.parametrize(("cname", "name", "lo", "hi", "strict", "whole"), RANGED,
                         ids=[f"{c}.{n}" for c, n, *_ in RANGED])  # fmt: skip
def test_a_value_past_each_limit_is_refused_naming_key_and_value(
    cname, name, lo, hi, strict, whole
):
    """Just past each end of each range: one line naming the field and the value. The
    end itself is accepted unless the range is open. (The whole instance is validated:
    the walker reaches every field, rules between fields included.)"""
    step = 1 if whole else 1e-6 * max(1.0, abs(lo if lo is not None else hi))
    for end, outside in ((lo, -step), (hi, step)):
        if end is None:
            continue
        obj = _instance(cname)
        bad = end + outside if not strict else end
        object.__setattr__(obj, name, bad)
        with pytest.raises(ConfigError) as err:
            validate(obj)
        text = str(err.value)
        assert name in text and repr(bad) in text and "\n" not in text, text
    if not strict:
        for end in (lo, hi):
            if end is None or (cname, name) in _RELATED:
                continue  # the end is allowed, but a rule ties this field to another
            obj = _instance(cname)
            object.__setattr__(obj, name, int(end) if whole else end)
            validate(obj)


#: Fields whose limit is further tied to another field by a class's rules.
_RELATED = {("McmcSettings", "steps"), ("McmcSettings", "burn"), ("AppConfig", "seed"),
            ("AppConfig", "seeds"), ("SearchApp", "max_runs"), ("PolicySearch", "scenarios"),
            ("PolicySearch", "population"), ("PolicySearch", "generations"),
            ("ModelConfig", "rounds"), ("PlayArgs", "rounds"), ("AppConfig", "rounds"),
            ("RoomSettings", "rounds")}  # fmt: skip


@dataclasses.dataclass
class _Toy:
    rate: float = param(0.5, 0, 1, "a probability")
    count: int = param(3, 1, 10, "whole")
    gain: float = param(1.0, 0, None, "positive", strict=True)
    mode: str = param("a", doc="a mode", choices=("a", "b"))
    weights: dict[str, float] = param(dict, -1, 1, "weights", keys=("x", "y"))
    steps: list[int] = param(lambda: [1], 1, 5, "steps", min_items=1)


@settings(max_examples=300, deadline=None)
@given(
    rate=st.floats(allow_nan=True, allow_infinity=True),
    count=st.integers(-5, 20),
    gain=st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=2),
    mode=st.sampled_from(["a", "b", "c", ""]),
    weights=st.dictionaries(st.sampled_from(["x", "y", "z"]), st.floats(-2, 2), max_size=3),
    steps=st.lists(st.integers(-1, 7), max_size=3),
)
def test_the_walker_accepts_exactly_what_the_metadata_allows(
    rate, count, gain, mode, weights, steps
):
    """Property: validate() refuses a value if and only if the metadata excludes it."""
    allowed = (
        not math.isnan(rate) and 0 <= rate <= 1
        and 1 <= count <= 10
        and gain > 0
        and mode in ("a", "b")
        and all(k in ("x", "y") and -1 <= v <= 1 for k, v in weights.items())
        and len(steps) >= 1 and all(1 <= s <= 5 for s in steps)
    )  # fmt: skip
    toy = _Toy(rate, count, gain, mode, weights, steps)
    if allowed:
        validate(toy)
    else:
        with pytest.raises(ConfigError) as err:
            validate(toy, "toy.")
        assert str(err.value).startswith("toy.") and "\n" not in str(err.value)


def test_one_refusal_line_for_every_command():
    assert refusal("stalemate-fit", ConfigError("k = -1 is outside")) == (
        "stalemate-fit: config error: k = -1 is outside"
    )
    assert refusal("stalemate-play", "--rounds = 0 is outside") == (
        "stalemate-play: --rounds = 0 is outside"
    )
    assert refusal("stalemate", "two\nlines") == "stalemate: config error: two"


def test_a_preset_is_checked_against_the_model_once(monkeypatch):
    """The search's pre-flight check, its run and its pipeline all ask for the checked
    preset: it is checked against the model once per process."""
    import sim.search.spec as spec

    calls = []
    real = spec._check_against_model
    monkeypatch.setattr(spec, "_check_against_model", lambda s, b: calls.append(1) or real(s, b))
    monkeypatch.setattr(spec, "_CHECKED", spec.Once(16))
    preset = spec.PolicySearch(name="once", levers=[spec.LeverSpec("relief", 0.0, 1.0)])
    base = spec.base_dict(preset)
    first = spec.check(preset, base)
    again = spec.check(dataclasses.replace(preset), base)
    assert calls == [1] and again.levers == first.levers
    spec.check(dataclasses.replace(preset, name="other"), base)
    assert calls == [1, 1]  # another preset is checked


_COUNT = """
import atexit, sys
from sim.hydra import schema
atexit.register(lambda: print("validations", schema.VALIDATIONS[0], file=sys.stderr))
from sim.hydra.cli import main
sys.argv = ["stalemate", *sys.argv[1:]]
main(sys.argv[1:])
"""


@pytest.mark.slow
def test_a_run_validates_its_config_once(tmp_path):
    """`stalemate relief=0.3` is checked by the pre-flight check, Hydra's callback and the
    run: the value is validated once, the other two get the result (issue 24)."""
    res = subprocess.run(
        [sys.executable, "-c", _COUNT, "relief=0.3", "seeds=2", "rounds=5", "narrate=false",
         "progress=false", f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "STALEMATE_COMPOSE_CACHE": str(tmp_path / "kept")},  # none kept yet
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert "validations 1" in res.stderr, res.stderr[-2000:]
    assert (tmp_path / "run" / "runs.parquet").exists()
