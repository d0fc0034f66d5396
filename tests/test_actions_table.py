"""Actions by table: a fourth action through the table and configuration alone.

The number of actions is the length of :data:`sim.model.names.ACTION_TABLE`; every
array's action axis, the logit, the draw and every loop over actions follow it. Here a
row is appended without editing the package (``$STALEMATE_EXTRA_ACTIONS`` names a YAML
file of rows), and actors are given weights, a type's shift and effects for it by
configuration only. The batch engine, the Mesa model (both of its paths) and the
likelihood then run a model in which actors walk out, and the engines agree bit for bit.

It runs in a subprocess: the table is read when :mod:`sim.model.names` is imported, and
the kernels of an extended table are compiled and cached apart from the package's own
(:func:`sim.model.jit.outside_sources`), which takes a minute or two the first time.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

ROW = """\
- name: walk_out
  label: Walk out
  colour: "#264653"
  verb: walks out
  doc: leaves the table for the round
"""

CHECK = textwrap.dedent(
    """
    import json

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from sim import NegotiationModel, make_config, run_batch, run_mesa
    from sim.engines.tables import to_pandas
    from sim.model.compile import compile_configs
    from sim.model.likelihood import replay_record
    from sim.model.names import ACTION_NAMES, N_ACTIONS, Action
    from sim.model.params import ActorConfig

    out = {"names": list(ACTION_NAMES), "n": N_ACTIONS, "member": Action.WALK_OUT.name,
           "field": "walk_out" in ActorConfig.__dataclass_fields__}
    # walking out: the DPRK when provoked or insecure (a holdout more readily), the USA
    # rarely; it raises tension and lets hidden work go on. Configuration only.
    actors = {
        "DPRK": {"walk_out": {"bias": -1.5, "provocation": 2.0, "insecurity": 1.0},
                 "effects": {"walk_out": {"tension": 0.8, "undeclared": 0.2}},
                 "types": {"holdout": {"walk_out": {"bias": 1.0}}}},
        "USA": {"walk_out": {"bias": -2.5, "alarm": 1.5},
                "effects": {"walk_out": {"tension": 0.6, "assurance": -0.5}}},
        "ROK": {"walk_out": {"bias": -6.0}},  # (an action without weights is worth hedging's 0)
        "PRC": {"walk_out": {"bias": -6.0}},
    }
    for model in ("beliefs", "trust_rule"):
        kw = dict(rounds=60, model=model, actors=actors)
        cfgs = [make_config(**kw), make_config(regime="relief_first", relief=0.5, assurance=0.6,
                events=[{"round": 5, "kind": "summit"}, {"round": 9, "kind": "report"},
                        {"round": 12, "kind": "custom", "force": {"ROK": "walk_out"}}], **kw)]
        configs = [c for c in cfgs for _ in range(40)]
        seeds = list(range(40)) * 2
        b = run_batch(configs, seeds, progress=False)
        m = run_mesa(configs, seeds, progress=False)
        for kind in ("runs", "states", "actions"):
            pd.testing.assert_frame_equal(getattr(b, kind), getattr(m, kind), check_exact=True)
        # Mesa's agent-by-agent path (a chooser that lets the policy play)
        models = []
        for i, (cfg, seed) in enumerate(zip(configs[:10], seeds[:10])):
            nm = NegotiationModel(rng=seed, **{k: getattr(cfg, k) for k in cfg.__dataclass_fields__})
            for agent in nm.actor_list:
                agent.chooser = lambda agent, decision: None
            nm.run()
            assert len(nm.actor_list[0].decision.probabilities) == 4
            models.append(nm.tables(run_id=i))
        got = to_pandas(pa.concat_tables([t["actions"] for t in models]))
        want = b.actions[b.actions.run_id < 10].reset_index(drop=True)
        pd.testing.assert_frame_equal(want, got, check_exact=True)
        acts = b.actions
        r12 = acts[(acts.run_id >= 40) & (acts["round"] == 12) & (acts.actor == "ROK")]
        out[model] = {
            "forced": [len(r12), int((r12.action == "walk_out").sum())],
            "walked": {a: int(((acts.action == "walk_out") & (acts.actor == a)).sum())
                       for a in ("DPRK", "USA", "ROK")},
            "columns": [c for c in b.runs.columns if c.startswith("walk_out_share_")],
            "outcomes": sorted(set(b.runs.outcome)),
        }
        # the likelihood replays a history with walk-outs in it
        run = b.actions[b.actions.run_id == int(b.runs.run_id[b.runs.walk_out_share_DPRK.idxmax()])]
        wide = run.pivot(index="round", columns="actor", values="action")
        c = compile_configs([cfgs[0]])
        observed = np.array([[ACTION_NAMES.index(str(wide.loc[t, n])) for n in c.structure.names]
                             for t in wide.index], dtype=np.int64)
        flags = b.states[(b.states.run_id == run.run_id.iloc[0]) & (b.states["round"] > 0)]
        months = len(observed)
        logp, probs = np.empty((months, 4)), np.empty((months, 4, N_ACTIONS))
        replay_record(c, 0, observed, flags.flagged.to_numpy(), logp, probs)
        picked = np.take_along_axis(probs, observed[..., None], axis=2)[..., 0]
        out[model]["likelihood"] = {
            "finite": bool(np.isfinite(logp).all()),
            "sums": float(np.abs(probs.sum(axis=2) - 1).max()),
            "same": bool(np.array_equal(logp, np.log(picked))),
            "walkouts_replayed": int((observed == Action.WALK_OUT).sum()),
            "p_walk_out": float(probs[..., Action.WALK_OUT].mean()),
        }
    print(json.dumps(out))
    """
)


def test_a_fourth_action_by_table_and_configuration(tmp_path):
    """A ``walk_out`` row appended to the action table and weights, a type's shift and
    effects given by configuration: 160 runs under each model, identical in the batch
    engine and the Mesa model (one-call and agent-by-agent paths), every action axis 4
    long, walk-outs played by the DPRK and the USA and forced on the ROK by an event, and
    the likelihood of a history full of walk-outs exact (its probabilities sum to 1 and
    its log-likelihood is the log of the probability of each move)."""
    rows = tmp_path / "actions.yaml"
    rows.write_text(ROW, encoding="utf-8")
    env = {**os.environ, "STALEMATE_EXTRA_ACTIONS": str(rows)}
    proc = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=1800
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["names"] == ["concede", "hedge", "escalate", "walk_out"] and got["n"] == 4
    assert got["member"] == "WALK_OUT" and got["field"]
    for model in ("beliefs", "trust_rule"):
        r = got[model]
        assert r["walked"]["DPRK"] > 0 and r["walked"]["USA"] > 0, r
        assert r["forced"][0] > 20 and r["forced"][0] == r["forced"][1], r  # the event's round 12
        assert sorted(r["columns"]) == [
            f"walk_out_share_{a}" for a in ("DPRK", "PRC", "ROK", "USA")
        ]
        lik = r["likelihood"]
        assert lik["finite"] and lik["sums"] < 1e-12 and lik["same"], lik
        assert lik["walkouts_replayed"] > 0 and 0 < lik["p_walk_out"] < 1, lik


def test_without_the_variable_the_table_has_three_actions():
    """The package's own table: concede, hedge, escalate (the rows the equations name)."""
    from sim.model.names import ACTION_NAMES, ACTION_TABLE, CORE_ACTIONS, N_ACTIONS, Action

    if os.environ.get("STALEMATE_EXTRA_ACTIONS"):
        pytest.skip("the table is extended in this environment")
    assert ACTION_TABLE == CORE_ACTIONS and N_ACTIONS == 3 == len(Action)
    assert ACTION_NAMES == ("concede", "hedge", "escalate")


def test_an_extra_row_that_is_not_new_is_refused(tmp_path, monkeypatch):
    """A row that repeats a name, or is not a row, is refused with the file's name."""
    from sim.model import names

    for text in ("- {name: hedge}\n", "- 3\n", "- {name: Walk}\n"):
        path = tmp_path / "rows.yaml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv(names.EXTRA_ACTIONS_ENV, str(path))
        with pytest.raises(ValueError, match="rows.yaml"):
            names.extra_actions()
