"""A robust policy search from start to end: search, re-evaluate, explain failures, write.

:func:`policy_search` is what ``stalemate-search`` runs, callable from Python
without Hydra. Its directory is **complete or absent**: every file is built in a
hidden partial directory beside it (``.<name>.partial``, which also holds the
search's lock and checkpoint while it runs) and the whole directory is renamed into
place once the last file is written (:mod:`sim.report.staging`). Tables carry the
config, seed, package version and the compiled sources' hash (``code``,
:mod:`sim.engines.provenance`) in their metadata. The directory holds:

- ``pareto.parquet`` — the ε-non-dominated policies: one row per policy, its
  levers, each objective's robust estimate with its 95% interval (``<objective>``,
  ``<objective>_lo``, ``<objective>_hi``), and the generation that found it;
- ``reevaluated.parquet`` — the same policies played in fresh scenarios (other
  seeds, another Latin hypercube): each objective in sample and out of sample with
  intervals, whether their intervals overlap (``agrees_<objective>``, ``agrees``: every
  objective), and whether the stricter difference test passes (``same_<objective>``,
  ``same``);
- ``convergence.csv`` — per generation: evaluations, runs, hypervolume, ε-progress;
- ``failures.csv`` — for the chosen policies, the boxes of uncertainty where they
  fail (PRIM over the re-evaluation's scenarios);
- ``summary.json`` and ``summary.txt`` — budget, wall time, convergence, the
  out-of-sample agreement share, the trade-off in words;
- figures: ``pareto_parallel.png``, ``tradeoff.png``, ``convergence.png``,
  ``failure_boxes.png``;
- ``checkpoint.pkl`` — the search after its last generation (a killed search
  resumes from it, in the partial directory, when run again with the same
  directory; a checkpoint made by other code is refused, naming both hashes);
- ``.hydra/`` and ``cli.log`` — Hydra's record of the command (from ``stalemate-search``).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from sim.search.evaluate import Evaluator, agreement, overlap, sample_scenarios
from sim.search.moea import convergence, fingerprint, run_search
from sim.search.spec import MAX_RUNS, Checked, PolicySearch, base_dict, check

#: Fewest failures among the re-evaluation's scenarios for PRIM to describe them.
MIN_FAILURES = 20
#: Relief thresholds of the trade-off read in words (:func:`tradeoff_table`).
RELIEF_STEPS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def policy_search(
    spec: PolicySearch,
    out: Path,
    processes="auto",
    progress: bool = True,
    say=print,
    figures: bool = True,
    max_runs: int = MAX_RUNS,
    command: str | None = None,
) -> dict:
    """Search, re-evaluate out of sample, explain the chosen policies' failures, write.

    Everything is built in ``.<out name>.partial`` beside ``out`` (which holds the
    search's lock and its checkpoint while it runs) and renamed to ``out`` once every
    file is written: ``out`` is absent, or complete (:mod:`sim.report.staging`). One
    search per directory: a second one is refused while the first runs
    (:class:`sim.hydra.lock.DirLock`). A killed search resumes from its last
    generation when run again with the same ``out``; a search already complete in
    ``out`` is not run again.

    Args:
        spec: the preset.
        out: the search's directory (absent, empty, or holding this same search).
        processes: threads of the batch engine.
        progress: show a progress bar.
        say: where lines of text go.
        figures: draw the figures.
        max_runs: refuse a search of more runs (population x generations x scenarios).
        command: the command line recorded in the lock (shown to a second search).

    Returns:
        What ``summary.json`` holds.

    Raises:
        ConfigError: a bad preset, a directory holding something else, or another search
            running there; CheckpointMismatch: a checkpoint of another search or other code.
    """
    import json

    from sim.hydra.lock import LockBusy
    from sim.hydra.staged import staged
    from sim.model.validation import ConfigError
    from sim.report.staging import partial_dir

    t0 = time.perf_counter()
    target = Path(os.path.abspath(out))
    base = base_dict(spec)
    checked = check(spec, base, max_runs)
    fp = fingerprint(checked, base)
    if search_status(target, fp) == "complete":
        say(f"{target} already holds this search, complete: nothing to do")
        return json.loads((target / SUMMARY).read_text())
    try:
        with staged(target, "search", command, fresh=False, notes=say) as work:
            if search_status(target, fp) == "complete":  # finished while we waited for the lock
                raise _Finished
            result = _search(spec, checked, base, work, target, processes, progress, say, figures, t0)  # fmt: skip
    except LockBusy as err:
        raise ConfigError(f"{err}; wait for it to end, or choose another hydra.run.dir") from None
    except _Finished:
        shutil.rmtree(partial_dir(target), ignore_errors=True)
        say(f"{target} already holds this search, complete: nothing to do")
        return json.loads((target / SUMMARY).read_text())
    say(f"\n{result['wall_time_s']['total']:.0f} s. Results in {target}/: pareto.parquet, reevaluated.parquet, "
        "convergence.csv, failures.csv, summary.json, summary.txt"
        + (", pareto_parallel.png, tradeoff.png, convergence.png, failure_boxes.png" if figures else ""))  # fmt: skip
    return result


class _Finished(Exception):
    """Another process finished this very search while this one waited for its lock."""


#: The file a complete search's directory always holds (written last).
SUMMARY = "summary.json"


def search_status(target: Path, fp: str) -> str:
    """``absent``, ``empty`` or ``complete`` (this search, finished) for a search's
    directory.

    Raises:
        ConfigError: ``target`` is a file or holds something other than a search.
        CheckpointMismatch: it holds another search, or one made by other code.
    """
    from sim.model.validation import ConfigError
    from sim.report.staging import status
    from sim.search.moea import CHECKPOINT, read_checkpoint

    where = f"hydra.run.dir = {target}"
    state = status(target, SUMMARY)
    if state == "file":
        raise ConfigError(f"{where} is a file, not a directory; choose another directory")
    if state == "other":
        raise ConfigError(
            f"{where} holds files but no finished search: choose a new or empty directory "
            "(a search owns its directory; a killed one resumes from its partial directory)"
        )
    if state == "complete" and read_checkpoint(target / CHECKPOINT, fp, where) is None:
        raise ConfigError(
            f"{where} holds a search without its {CHECKPOINT}: choose another directory"
        )
    return state


def _search(spec, checked, base, out: Path, target: Path, processes, progress, say, figures, t0):
    """The search proper, writing every file into ``out`` (the partial directory)."""
    import sim
    from sim.engines.provenance import provenance
    from sim.report.io import failpoint, write_json, write_parquet, write_text

    made_by = provenance()
    scen = sample_scenarios(checked, spec.scenarios)
    evaluator = Evaluator(checked, base, scen, processes)
    say(f"Stalemate {sim.__version__} (code {made_by['code']}) — policy search {spec.name!r}: "
        f"{len(checked.levers)} levers, {len(scen.keys)} uncertain parameters, "
        f"{len(checked.objectives)} objectives; {spec.population} policies x {spec.generations} "
        f"generations, each in {spec.scenarios} scenarios -> {target} (killed? run it again "
        f"with hydra.run.dir={target}: it resumes)")  # fmt: skip
    state = run_search(checked, evaluator, out, progress=progress, say=say)
    t_search = time.perf_counter() - t0
    conv = convergence(state.history)

    keys = sorted(state.archive.keys, key=lambda k: -_col(state, checked, k, "p_agreement"))
    pareto = _table(checked, state, keys)
    meta = {
        "config": asdict(spec),
        "seed": spec.seed,
        **made_by,
        "scenarios": spec.scenarios,
        "uncertain": list(scen.keys),
    }
    write_parquet(pareto, out / "pareto.parquet", meta)
    write_text(pd.DataFrame(state.history).to_csv(index=False), out / "convergence.csv")

    # out of sample: fresh scenarios, every Pareto policy
    t1 = time.perf_counter()
    fresh = sample_scenarios(checked, spec.reevaluate, out_of_sample=True)
    re_eval = Evaluator(checked, base, fresh, processes)
    policies = [state.policies[k] for k in keys]
    est, lo, hi, runs = re_eval.objectives(policies)
    reeval = _reevaluated(checked, pareto, est, lo, hi)
    write_parquet(reeval, out / "reevaluated.parquet", {**meta, "scenarios": spec.reevaluate})
    t_reeval = time.perf_counter() - t1
    failpoint("search.reevaluated")

    # where the chosen policies fail
    chosen = choose(checked, reeval, spec.discover)
    failures, fail_data = _failures(checked, fresh, runs, chosen, reeval)
    write_text(failures.to_csv(index=False, float_format="%.4f"), out / "failures.csv")

    share = float(reeval["agrees"].mean()) if len(reeval) else float("nan")
    result = {
        "name": spec.name,
        **made_by,
        "seed": spec.seed,
        "config": asdict(spec),
        "base": {k: base[k] for k in ("name", "regime", "assurance", "relief", "rounds")},
        "levers": checked.lever_keys,
        "uncertain": list(scen.keys),
        "objectives": [
            {
                "column": o.column,
                "metric": o.metric,
                "robustness": o.robustness,
                "sense": o.sense,
                "epsilon": o.epsilon,
            }
            for o in checked.objectives
        ],  # fmt: skip
        "budget": {
            "generations": len(state.history),
            "population": spec.population,
            "evaluations": state.evaluations,
            "distinct_policies": len(state.policies),
            "scenarios": spec.scenarios,
            "search_runs": state.runs,
            "reevaluation_runs": re_eval.runs,
        },
        "wall_time_s": {"search": round(t_search, 1), "reevaluation": round(t_reeval, 1)},
        "convergence": conv,
        "pareto_size": len(pareto),
        "out_of_sample": {
            "scenarios": spec.reevaluate,
            "agreement_share": share,
            "by_objective": {
                o.column: float(reeval[f"agrees_{o.column}"].mean()) for o in checked.objectives
            },
            "criterion": "for every objective, the 95% intervals in sample and out of sample overlap",
            "difference_test_share": float(reeval["same"].mean()) if len(reeval) else float("nan"),
            "difference_test": "for every objective, the 95% interval of the in-sample minus "
            "out-of-sample difference (Bonferroni over the objectives) holds zero",
        },
        "chosen": chosen,
        "failures": [
            {
                "policy": d["policy"]["policy"],
                "fail_share": float(d["fail"].mean()),
                "boxes": [
                    {"rule": b.rule(), "coverage": b.coverage, "density": b.density, "mass": b.mass}
                    for b in d["boxes"]
                ],
            }
            for d in fail_data
        ],  # fmt: skip
        "tradeoff": tradeoff_table(checked, reeval),
    }
    text = describe(result)
    result["wall_time_s"]["total"] = round(time.perf_counter() - t0, 1)
    if figures:
        from sim.report.io import save_figure
        from sim.search import plots

        save_figure(plots.parallel(checked, pareto), out / "pareto_parallel.png", dpi=110)
        save_figure(plots.tradeoff(checked, reeval, chosen), out / "tradeoff.png", dpi=110)
        save_figure(plots.convergence(state.history, conv), out / "convergence.png", dpi=110)
        save_figure(plots.failure_boxes(fail_data), out / "failure_boxes.png", dpi=110)
    failpoint("search.figures")
    result["wall_time_s"]["total"] = round(time.perf_counter() - t0, 1)
    write_text(text + "\n", out / "summary.txt")
    write_json(result, out / SUMMARY)  # last: a directory with a summary.json is complete
    say(text)
    return result


def _col(state, checked: Checked, k: int, column: str) -> float:
    cols = [o.column for o in checked.objectives]
    return float(state.est[k][cols.index(column)]) if column in cols else 0.0


def _table(checked: Checked, state, keys: list[int]) -> pd.DataFrame:
    """One row per policy: id, levers, objectives with intervals, generation found."""
    rows = []
    for i, k in enumerate(keys):
        row = {"policy": i}
        row.update(state.policies[k])
        for j, o in enumerate(checked.objectives):
            row[o.column] = state.est[k][j]
            row[f"{o.column}_lo"] = state.lo[k][j]
            row[f"{o.column}_hi"] = state.hi[k][j]
        row["generation"] = state.generation[k]
        rows.append(row)
    return pd.DataFrame(rows)


def _reevaluated(checked: Checked, pareto: pd.DataFrame, est, lo, hi) -> pd.DataFrame:
    """The Pareto set in sample and out of sample, and whether the two agree."""
    df = pareto[["policy", *checked.lever_keys]].copy()
    cols = [o.column for o in checked.objectives]
    ins = pareto[cols].to_numpy(float)
    ins_lo = pareto[[f"{c}_lo" for c in cols]].to_numpy(float)
    ins_hi = pareto[[f"{c}_hi" for c in cols]].to_numpy(float)
    agree = overlap(ins_lo, ins_hi, lo, hi)
    same = agreement(ins, ins_lo, ins_hi, est, lo, hi) if len(df) else agree
    for j, c in enumerate(cols):
        df[f"{c}_search"] = ins[:, j]
        df[f"{c}_search_lo"] = ins_lo[:, j]
        df[f"{c}_search_hi"] = ins_hi[:, j]
        df[c] = est[:, j]
        df[f"{c}_lo"] = lo[:, j]
        df[f"{c}_hi"] = hi[:, j]
        df[f"agrees_{c}"] = agree[:, j]
        df[f"same_{c}"] = same[:, j]
    df["agrees"] = agree.all(axis=1)
    df["same"] = same.all(axis=1)
    return df


def choose(checked: Checked, reeval: pd.DataFrame, n: int) -> list[dict]:
    """The policies whose failures are explained: the best P(agreement) out of sample,
    then the one giving the least relief among those reaching 50% agreement (the cheap
    end of the trade-off), then the rest by P(agreement). Each as
    ``{"policy", "why", <levers>, <objectives>}``."""
    cols = [o.column for o in checked.objectives]
    if n == 0 or len(reeval) == 0 or "p_agreement" not in cols:
        return []
    order = reeval.sort_values("p_agreement", ascending=False, kind="stable")
    picks = [(int(order.iloc[0]["policy"]), "highest P(agreement)")]
    relief = next((c for c in cols if c.startswith("relief_given")), None)
    if relief is not None:
        half = order[order["p_agreement"] >= 0.5].sort_values(relief, kind="stable")
        if len(half) and int(half.iloc[0]["policy"]) != picks[0][0]:
            picks.append((int(half.iloc[0]["policy"]), "least relief reaching 50% agreement"))
    for p in order["policy"]:
        if len(picks) >= n:
            break
        if int(p) not in [q for q, _ in picks]:
            picks.append((int(p), "next by P(agreement)"))
    out = []
    for p, why in picks[:n]:
        row = reeval[reeval["policy"] == p].iloc[0]
        out.append({"policy": p, "why": why,
                    **{k: _plain(row[k]) for k in checked.lever_keys},
                    **{c: float(row[c]) for c in cols}})  # fmt: skip
    return out


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _failures(checked: Checked, fresh, runs: dict, chosen: list[dict], reeval: pd.DataFrame):
    """PRIM boxes of the uncertainty scenarios where each chosen policy fails (no agreement)."""
    from sim.analysis.discovery import prim_boxes, rules_table

    X = pd.DataFrame(fresh.values, columns=list(fresh.keys))
    rows, data = [], []
    position = {int(p): i for i, p in enumerate(reeval["policy"])}
    for c in chosen:
        fail = runs["p_agreement"][position[c["policy"]]] < 0.5
        boxes = []
        if X.shape[1] and MIN_FAILURES <= fail.sum() < len(fail):
            boxes = prim_boxes(X, fail, min_density=0.8, max_boxes=2, keep_density=0.5,
                               min_coverage=0.05)  # fmt: skip
        table = rules_table(boxes, "prim", X) if boxes else pd.DataFrame()
        if len(table):
            table.insert(0, "policy", c["policy"])
            rows.append(table)
        data.append({"policy": c, "X": X, "fail": fail, "boxes": boxes})
    return (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["policy", "method", "box", "rule", "coverage", "density", "mass"])), data  # fmt: skip


def tradeoff_table(checked: Checked, reeval: pd.DataFrame) -> list[dict]:
    """For each relief threshold, the best out-of-sample P(agreement) among the Pareto
    policies whose robust relief given stays at or below it."""
    cols = [o.column for o in checked.objectives]
    relief = next((c for c in cols if c.startswith("relief_given")), None)
    if relief is None or "p_agreement" not in cols or len(reeval) == 0:
        return []
    out = []
    for t in RELIEF_STEPS:
        ok = reeval[reeval[relief] <= t + 1e-12]
        if len(ok):
            best = ok.loc[ok["p_agreement"].idxmax()]
            out.append({"relief_at_most": t, "p_agreement": float(best["p_agreement"]),
                        "p_agreement_lo": float(best["p_agreement_lo"]),
                        "p_agreement_hi": float(best["p_agreement_hi"]), "policy": int(best["policy"])})  # fmt: skip
        else:
            out.append({"relief_at_most": t, "p_agreement": None, "policy": None})
    return out


def describe(result: dict) -> str:
    """What the command prints and ``summary.txt`` holds."""
    b, c, o = result["budget"], result["convergence"], result["out_of_sample"]
    lines = [
        f"Policy search {result['name']!r}: {b['generations']} generations x {b['population']} policies = "
        f"{b['evaluations']} evaluations ({b['distinct_policies']} distinct policies), each in "
        f"{b['scenarios']} scenarios: {b['search_runs']:,} runs; re-evaluation {b['reevaluation_runs']:,} runs.",
        f"Wall time: search {result['wall_time_s']['search']:.0f} s, re-evaluation "
        f"{result['wall_time_s']['reevaluation']:.0f} s.",
        f"Convergence: hypervolume {c.get('hv_start', float('nan')):.4f} at generation "
        f"{c['from_generation']} -> {c.get('hv_end', float('nan')):.4f} at {c['generations']} "
        f"(gain {c['hv_gain']:.2%} over the last {c['generations'] - c['from_generation']} generations; "
        f"{'converged' if c['converged'] else 'NOT converged'}: under 1% counts).",
        f"Pareto set (ε-non-dominated): {result['pareto_size']} policies. Out of sample "
        f"({o['scenarios']} fresh scenarios) {o['agreement_share']:.0%} agree with the search "
        f"within their 95% intervals (by objective: "
        + ", ".join(f"{k} {v:.0%}" for k, v in o["by_objective"].items())
        + f"); the stricter difference test passes for {o['difference_test_share']:.0%}.",
    ]
    if result["tradeoff"]:
        lines.append(
            "Best P(agreement) out of sample among Pareto policies giving at most … relief:"
        )
        for t in result["tradeoff"]:
            if t["p_agreement"] is None:
                lines.append(f"  ≤ {t['relief_at_most']:.1f}: no policy")
            else:
                lines.append(
                    f"  ≤ {t['relief_at_most']:.1f}: {t['p_agreement']:.0%} "
                    f"[{t['p_agreement_lo']:.0%}, {t['p_agreement_hi']:.0%}] (policy {t['policy']})"
                )
    for ch in result["chosen"]:
        levers = ", ".join(f"{k}={_fmt(ch[k])}" for k in result["levers"])
        objs = ", ".join(f"{o['column']} {ch[o['column']]:.2f}" for o in result["objectives"])
        lines.append(f"Chosen: policy {ch['policy']} ({ch['why']}): {levers}; {objs}.")
        for f in result.get("failures", []):
            if f["policy"] != ch["policy"]:
                continue
            if not f["boxes"]:
                lines.append(f"  fails (no agreement) in {f['fail_share']:.1%} of the fresh scenarios; "
                             f"{'too few to describe' if f['fail_share'] * result['out_of_sample']['scenarios'] < MIN_FAILURES else 'no box describes them'}")  # fmt: skip
            for i, b in enumerate(f["boxes"], 1):
                lines.append(f"  fails in {f['fail_share']:.0%} of the fresh scenarios; box {i}: {b['rule']} "
                             f"(coverage {b['coverage']:.0%}, density {b['density']:.0%})")  # fmt: skip
    return "\n".join(lines)


def _fmt(v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)
