"""``stalemate-fit``: estimate the model's preferences from a coded record, and judge them on months left out.

Usage::

    stalemate-fit                                    # the packaged 2018–2019 record, default windows
    stalemate-fit record=us_dprk_2018_2019 train=2018-01:2019-02 test=2019-03:2019-12
    stalemate-fit record=path/to/case.csv train=… test=…   # any record in the same format
    stalemate-fit 'fit.params=[rationality,actors.DPRK.concede.bias]'   # choose the free parameters
    stalemate-fit fit.mcmc.steps=20000                # a longer chain

Writes into ``results/fit/<record>/<time>/``:

- ``fit.json`` — ``params`` (dotted config key -> maximum-likelihood estimate; pass
  any of them back to ``stalemate`` as an override), ``ci`` (key -> 95% interval
  from the observed information), ``loglik_train``, ``n_train``, and ``test``
  (for the ``fitted``, ``default`` (hand-set), ``persistence`` and
  ``frequencies`` models: the held-out ``log_score``, mean ``brier`` and ``n``);
  plus the record and windows, the hand-set model's training log-likelihood and
  AIC, the posterior summary and diagnostics, the forecasts, and the package version;
- ``test_scores.csv`` — every held-out actor-month's log probability and Brier
  score under each model;
- ``posterior.parquet`` — the posterior draws (one column per free parameter);
- ``record_fit.png`` — the record against the model's one-step-ahead probabilities,
  the training and test windows shaded;
- ``calibrated_actors.yaml`` — the posterior means as an ``actors=`` option
  (``sim/configs/actors/calibrated_2018.yaml`` is this file for the packaged record).

A posterior that has not converged (R-hat >= 1.01 or a chain shorter than 50
autocorrelation times) is not reported: the command stops and says what to run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.hydra.compose import CONFIG_MODULE
from sim.model.validation import ConfigError

# the estimation (scipy, emcee, the compiled likelihood) is imported when a fit runs:
# --help, --cfg and a refused command line answer without it
if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from sim.analysis.estimate import RecordModel


def _default_params() -> list[str]:
    """:data:`sim.analysis.estimate.DEFAULT_PARAMS`, read from that module's source: the
    schema needs the list to show ``--help``, and importing the estimation to get it
    took 1.4 s, twice what ``stalemate-fit --help`` may (tests/test_startup.py checks
    the two are the same)."""
    import ast
    from importlib.util import find_spec

    source = Path(find_spec("sim.analysis.estimate").origin).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [
            t.id for t in node.targets if isinstance(t, ast.Name)
        ] == ["DEFAULT_PARAMS"]:
            return list(ast.literal_eval(node.value))
    from sim.analysis.estimate import DEFAULT_PARAMS  # the source changed shape: import it

    return list(DEFAULT_PARAMS)


@dataclass
class McmcSettings:
    """The posterior sampler (emcee)."""

    steps: int = 20000
    burn: int = 5000
    walkers: int = 0  # 0: max(32, 4 x free parameters)
    require_convergence: bool = True


@dataclass
class FitSettings:
    """What to estimate and how."""

    params: list[str] = field(default_factory=_default_params)
    restarts: int = 10
    seed: int = 0
    draws: int = 2000  # posterior draws used for the figure's band and the forecasts
    mcmc: McmcSettings = field(default_factory=McmcSettings)


@dataclass
class FitApp:
    """A fit of the model to a record."""

    record: str = "us_dprk_2018_2019"
    train: str = "2018-01:2019-02"
    test: str = "2019-03:2019-12"
    fit: FitSettings = field(default_factory=FitSettings)
    model: dict[str, Any] = field(
        default_factory=dict
    )  # fixed model parameters for the record's config
    progress: bool = True


ConfigStore.instance().store(name="fit_schema", node=FitApp)
OmegaConf.register_new_resolver("stem", lambda p: Path(str(p)).stem, replace=True)


def run_fit(app: FitApp, out: Path) -> dict:
    """Fit, sample, score, forecast and write; return what fit.json holds."""
    import numpy as np

    import sim
    from sim.analysis.estimate import (
        NotConverged,
        RecordModel,
        aic,
        fit_mle,
        held_out_scores,
        sample_posterior,
    )
    from sim.analysis.record import RecordError, load_record
    from sim.report.io import save_figure, write_json, write_parquet, write_text
    from sim.report.plots import plot_record_fit

    say = print
    t0 = time.perf_counter()
    record = load_record(app.record)
    train, test = record.window(app.train), record.window(app.test)
    if not train.any():
        raise RecordError(f"train = {app.train!r} selects no month of {record.name}")
    if (train & test).any():
        raise RecordError(
            f"train = {app.train!r} and test = {app.test!r} overlap; held-out months must be left out"
        )
    model = RecordModel(record, list(app.fit.params), **dict(app.model))
    k = len(model.free)
    say(f"Stalemate {sim.__version__} — fitting {k} parameters to {record.name} "
        f"({record.n_months} months x {len(record.actors)} actors)")  # fmt: skip
    say(
        f"  training months {app.train} ({int(train.sum())}), held-out months {app.test or 'none'} ({int(test.sum())})"
    )

    est = fit_mle(model, train, restarts=app.fit.restarts, seed=app.fit.seed)
    ll_default = float(model.loglik(model.default_values()[None], train)[0])
    say(f"  maximum likelihood: log-likelihood {est.loglik:.2f} (hand-set weights {ll_default:.2f}), "
        f"{'converged' if est.converged else 'the likelihood is flat in some direction: those intervals span what the record cannot rule out'}")  # fmt: skip

    post = sample_posterior(model, train, est.values, walkers=app.fit.mcmc.walkers or None,
                            steps=app.fit.mcmc.steps, burn=app.fit.mcmc.burn, seed=app.fit.seed,
                            progress=app.progress and sys.stderr.isatty())  # fmt: skip
    if not post.converged and app.fit.mcmc.require_convergence:
        raise NotConverged(
            "the posterior did not converge, so it is not reported: "
            + "; ".join(post.problems)
            + f". Run a longer chain, e.g. fit.mcmc.steps={2 * app.fit.mcmc.steps}"
        )
    rng = np.random.default_rng(app.fit.seed)
    pick = rng.choice(len(post.draws), size=min(app.fit.draws, len(post.draws)), replace=False)
    draws = post.draws[pick]

    scores, rows = held_out_scores(model, est.values, train, test) if test.any() else ({}, [])
    _, probs_draws, _ = model.replay(draws)
    mean_probs = probs_draws.mean(axis=0)
    band = (np.quantile(probs_draws, 0.05, axis=0), np.quantile(probs_draws, 0.95, axis=0))
    forecasts = _forecasts(model, record, draws, train, app.fit.seed)

    means = post.draws.mean(axis=0)
    result = {
        "params": est.as_dict(),
        "ci": est.intervals(),
        "loglik_train": est.loglik,
        "n_train": est.n,
        "test": scores,
        "test_by_actor": _by_actor(rows),
        "record": record.name,
        "train": app.train,
        "test_window": app.test,
        "loglik_train_default": ll_default,
        "aic": {"fitted": aic(est.loglik, k), "default": aic(ll_default, 0)},
        "mle_converged": est.converged,
        "posterior": {
            "summary": post.summary(),
            "acceptance": post.acceptance,
            "converged": post.converged,
            "problems": post.problems,
            "walkers": int(post.chains.shape[0]),
            "steps_after_burn": int(post.chains.shape[1]),
            "priors": {p.key: p.prior.describe() for p in model.free},
        },
        "forecast": forecasts,
        "version": sim.__version__,
        "config": OmegaConf.to_container(OmegaConf.structured(app)),
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(result, out / "fit.json")
    if rows:
        import pandas as pd

        write_text(pd.DataFrame(rows).to_csv(index=False), out / "test_scores.csv")
    import pandas as pd

    write_parquet(pd.DataFrame(post.draws, columns=model.keys), out / "posterior.parquet",
                  {"record": record.name, "train": app.train, "version": sim.__version__,
                   "summary": post.summary()})  # fmt: skip
    fig = plot_record_fit(record.periods, record.actors, record.actions, mean_probs, train, test,
                          f"{record.name}: the record and the fitted model's one-step-ahead probabilities "
                          "(posterior mean, 90% band)", band)  # fmt: skip
    save_figure(fig, out / "record_fit.png", dpi=110)
    write_text(
        calibrated_yaml(model.keys, means, record.name, app.train), out / "calibrated_actors.yaml"
    )

    say("\n" + report(result))
    say(f"\n{time.perf_counter() - t0:.0f} s. Results in {out}/: fit.json, test_scores.csv, posterior.parquet, "
        "record_fit.png, calibrated_actors.yaml")  # fmt: skip
    return result


def _forecasts(model: RecordModel, record, draws: np.ndarray, train: np.ndarray, seed: int) -> dict:
    """Forward simulations from the end of the training window, with what happened beside them."""
    import numpy as np

    from sim.analysis.estimate import forecast
    from sim.model.names import ACTION_NAMES, Action, Outcome

    last_train = int(np.flatnonzero(train)[-1]) + 1  # months replayed
    if last_train >= record.n_months:
        return {}
    sims = forecast(model, draws, last_train, seed=seed)
    acts = sims["actions"]  # (draws, months ahead, actors)
    ahead = record.periods[last_train:]
    out: dict[str, dict] = {"months": ahead}
    target = record.actors[model.compiled.structure.target]
    i = record.actors.index(target)
    horizon = min(3, len(ahead))
    happened = bool((record.actions[last_train : last_train + horizon, i] == Action.ESCALATE).any())
    p = float((acts[:, :horizon, i] == Action.ESCALATE).any(axis=1).mean())
    out[f"{target} escalates by {ahead[horizon - 1]}"] = {"model": p, "happened": happened}
    no_deal = float((sims["outcome"] != Outcome.AGREEMENT).mean())
    agreed = record.outcome.get("agreement", "unknown")  # None: no agreement within the record
    happened = None if agreed == "unknown" else (agreed is None or agreed > ahead[-1])
    out[f"no agreement by {ahead[-1]}"] = {"model": no_deal, "happened": happened}
    for a_i, actor in enumerate(record.actors):
        shares = {name: float((acts[:, :, a_i] == a).sum() / max(1, (acts[:, :, a_i] >= 0).sum()))
                  for a, name in enumerate(ACTION_NAMES)}  # fmt: skip
        observed = {
            name: float((record.actions[last_train:, a_i] == a).mean())
            for a, name in enumerate(ACTION_NAMES)
        }
        out[f"{actor} action shares, held-out months"] = {"model": shares, "record": observed}
    return out


def _by_actor(rows: list[dict]) -> dict:
    """Held-out log score and mean Brier score per actor and model (where the model wins or loses)."""
    out: dict = {}
    for row in rows:
        per = out.setdefault(row["actor"], {})
        for key, value in row.items():
            if key.startswith(("logp_", "brier_")):
                kind, model = key.split("_", 1)
                s = per.setdefault(model, {"log_score": 0.0, "brier": 0.0, "n": 0})
                if kind == "logp":
                    s["log_score"] += value
                    s["n"] += 1
                else:
                    s["brier"] += value
    for per in out.values():
        for s in per.values():
            s["brier"] /= max(s["n"], 1)
    return out


def calibrated_yaml(keys, values, record: str, train: str) -> str:
    """The posterior means as a config file for the ``actors`` group (``actors=calibrated_2018``)."""
    import numpy as np

    from sim.analysis.estimate import as_changes

    body = OmegaConf.to_yaml(OmegaConf.create(as_changes(keys, np.round(values, 4))))
    return (
        "# @package _global_\n"
        f"# Posterior means from `stalemate-fit record={record} train={train}` (docs/calibration.md).\n"
        "# Use with: stalemate actors=calibrated_2018 …   Every other preference keeps its default.\n"
        + body
    )


def report(result: dict) -> str:
    """What the command prints: estimates with intervals, fit, held-out scores, forecasts."""
    lines = ["Estimates (maximum likelihood, 95% interval; posterior mean, 95% credible interval):"]
    summ = result["posterior"]["summary"]
    for key, v in result["params"].items():
        lo, hi = result["ci"][key]
        s = summ[key]
        lines.append(f"  {key:<36} {v:8.3f} [{lo:8.3f}, {hi:8.3f}]   {s['mean']:8.3f} [{s['q2.5']:8.3f}, {s['q97.5']:8.3f}]"
                     f"  R-hat {s['rhat']:.3f}, ESS {s['ess']:,.0f}")  # fmt: skip
    lines.append(f"Training log-likelihood: fitted {result['loglik_train']:.2f}, hand-set {result['loglik_train_default']:.2f} "
                 f"({result['n_train']} actor-months); AIC fitted {result['aic']['fitted']:.1f}, hand-set {result['aic']['default']:.1f}")  # fmt: skip
    if result["test"]:
        lines.append("Held-out months (log score: higher is better; Brier: lower is better):")
        best = max(result["test"], key=lambda m: result["test"][m]["log_score"])
        for name, sc in result["test"].items():
            mark = "  <- best" if name == best else ""
            lines.append(
                f"  {name:<12} log score {sc['log_score']:8.2f}   Brier {sc['brier']:.3f}   n {sc['n']}{mark}"
            )
        by = result.get("test_by_actor") or {}
        if by:
            models = list(result["test"])
            lines.append("  by actor (log score): " + "   ".join(
                f"{actor} " + "/".join(f"{by[actor][m]['log_score']:.1f}" for m in models) for actor in by
            ) + f"   ({'/'.join(models)})")  # fmt: skip
    for key, v in result.get("forecast", {}).items():
        if isinstance(v, dict) and "happened" in v:
            said = {True: "yes", False: "no", None: "not recorded"}[v["happened"]]
            lines.append(f"Forecast: P({key}) = {v['model']:.2f}; happened: {said}")
    return "\n".join(lines)


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="fit", version_base="1.3")
def _main(cfg: DictConfig) -> None:
    from sim.analysis.estimate import NotConverged

    app: FitApp = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(FitApp),
                                                      {k: v for k, v in cfg.items() if k != "hydra"}))  # fmt: skip
    try:
        run_fit(app, Path(HydraConfig.get().runtime.output_dir))
    except (ConfigError, NotConverged) as err:
        print(f"stalemate-fit: {err}", file=sys.stderr)
        raise SystemExit(2 if isinstance(err, ConfigError) else 3) from None


def main() -> None:
    """Entry point of the ``stalemate-fit`` console script."""
    from sim.report.io import skip_final_collection

    skip_final_collection()
    _main()


if __name__ == "__main__":
    main()
