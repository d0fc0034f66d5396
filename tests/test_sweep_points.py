"""A job's grid points of plain numbers are the base model with their values: the same
configs as composing each point whole (sim.hydra.cli.point_models)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.hydra.cli import point_models
from sim.hydra.compose import compose
from sim.hydra.schema import apply_point, lookup, parse_point, to_app_config
from sim.model.validation import ConfigError

MAP = [
    [f"assurance={a}", f"relief={r}"]
    for a in np.round(np.arange(0, 1.01, 0.25), 12)
    for r in np.round(np.arange(0, 1.01, 0.25), 12)
]
MIXED = [
    ["detect_prob=0.3", "rounds=50"],  # rounds is not a plain number of the model: whole
    ["stalemate_window=7", "tension=0.25"],
    ["rationality=3"],
    ["regime=relief_first", "assurance=1"],
    ["actors.DPRK.trust=0.2", "relief=0.1"],
    ["assurance=1", "assurance=0"],  # a key twice: the last value, as composing it
    [],
]


@pytest.mark.parametrize("base", [["scenario=relief_first"], ["model=trust_rule"], []])
def test_point_models_are_the_composed_points(base):
    app, model = to_app_config(compose([*base, "seeds=3"]))
    for points in (MAP, MIXED):
        got, swept = point_models(app, model, points)
        want, want_swept = [], {}
        for p in points:
            point_app, m = apply_point(app, p) if p else (app, model)
            want.append(m)
            for k, _ in parse_point(p):
                want_swept.setdefault(k, []).append(lookup(point_app, k))
        assert got == want and repr(got) == repr(want)
        assert swept == want_swept and repr(swept) == repr(want_swept)


def test_a_bad_value_is_refused_as_when_composed():
    app, model = to_app_config(compose(["seeds=3"]))
    for bad in (["assurance=1.5"], ["relief=-0.1", "assurance=0.2"], ["stalemate_window=0"]):
        with pytest.raises(ConfigError) as fast:
            point_models(app, model, [bad])
        with pytest.raises(ConfigError) as whole:
            apply_point(app, bad)
        assert str(fast.value) == str(whole.value)
    drawn, model = to_app_config(compose(["seeds=3", "uncertainty=prior"]))
    with pytest.raises(ConfigError, match="also drawn"):
        point_models(drawn, model, [["rationality=2"]])


def test_values_the_sweeper_checked_are_not_checked_again_by_its_job(monkeypatch):
    """A local sweep checks each value of a plain-number key once (validate_point); its
    job, in the same process, is handed the typed values (no second validation per block)."""
    from sim.hydra import schema

    app, model = to_app_config(compose(["seeds=3", "rationality=2.5"]))
    values = sorted({o for p in MAP for o in p})
    schema.validate_point(app, [[v] for v in values])
    calls = []
    real = schema.apply_point
    monkeypatch.setattr(schema, "apply_point", lambda a, p: calls.append(p) or real(a, p))
    for _ in range(3):  # three blocks
        got, _ = point_models(app, model, MAP)
    assert calls == []
    want = [real(app, p)[1] for p in MAP]
    assert got == want and repr(got) == repr(want)
    other, _ = to_app_config(compose(["seeds=3", "rationality=3.5"]))  # other values: checked
    point_models(other, model, MAP[:1])
    assert len(calls) == 2
