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
from typing import Any

import hydra
import numpy as np
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.analysis.estimate import (
    DEFAULT_PARAMS,
    NotConverged,
    RecordModel,
    aic,
    as_changes,
    fit_mle,
    held_out_scores,
    sample_posterior,
)
from sim.analysis.record import RecordError, load_record
from sim.hydra.compose import CONFIG_MODULE
from sim.model.names import ACTION_NAMES
from sim.model.validation import ConfigError


@dataclass
class McmcSettings:
    """The posterior sampler (emcee): it stops once converged, within a budget of steps."""

    steps: int = 20000  # the budget: the most steps (with adaptive, it stops once converged)
    burn: int = 500  # steps discarded at the start
    walkers: int = 0  # 0: max(32, 4 x free parameters)
    adaptive: bool = True  # stop once R-hat < 1.01 and >= 50 autocorrelation times after burn-in
    require_convergence: bool = True


@dataclass
class FitSettings:
    """What to estimate and how."""

    params: list[str] = field(default_factory=lambda: list(DEFAULT_PARAMS))
    restarts: int = 10
    seed: int = 0
    draws: int = 2000  # posterior draws used for the figure's band and the forecasts
    mcmc: McmcSettings = field(default_factory=McmcSettings)


@dataclass
class RollingSettings:
    """How each origin's model is fitted in a rolling-origin evaluation."""

    posterior: str = "laplace"  # laplace (seconds per origin) | mcmc (exact, minutes)
    draws: int = 200  # posterior draws the forecast averages over
    paths: int = 16  # paths per draw for the months after the first
    restarts: int = 4


@dataclass
class FitApp:
    """A fit of the model to a record."""

    record: str = "us_dprk_2018_2019"
    train: str = "2018-01:2019-02"
    test: str = "2019-03:2019-12"
    evaluate: str = "holdout"  # holdout: fit train, score test | rolling: rolling-origin forecasts
    origins: str = ""  # rolling: 'YYYY-MM:YYYY-MM', the last month each forecast may see
    horizons: list[int] = field(default_factory=lambda: [1, 3])  # rolling: months ahead
    rolling: RollingSettings = field(default_factory=RollingSettings)
    fit: FitSettings = field(default_factory=FitSettings)
    model: dict[str, Any] = field(
        default_factory=dict
    )  # fixed model parameters for the record's config
    progress: bool = True


ConfigStore.instance().store(name="fit_schema", node=FitApp)
OmegaConf.register_new_resolver("stem", lambda p: Path(str(p)).stem, replace=True)


def run_fit(app: FitApp, out: Path) -> dict:
    """Fit, sample, score, forecast and write; return what fit.json holds."""
    import sim
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
                            adaptive=app.fit.mcmc.adaptive,
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
        calibrated_yaml(model.keys, means, record.name, app.train, model.compiled.structure),
        out / "calibrated_actors.yaml",
    )

    say("\n" + report(result))
    say(f"\n{time.perf_counter() - t0:.0f} s. Results in {out}/: fit.json, test_scores.csv, posterior.parquet, "
        "record_fit.png, calibrated_actors.yaml")  # fmt: skip
    return result


def run_rolling(app: FitApp, out: Path) -> dict:
    """Rolling-origin forecasts of the model and the four baselines, scored and compared
    (:mod:`sim.analysis.forecast`); writes scores.parquet, skill.csv, skill.png and
    rolling.json."""

    import sim
    from sim.analysis.forecast import BASELINES, ModelForecaster, rolling_origin, skill
    from sim.report.io import save_figure, write_json, write_text
    from sim.report.skill import plot_cumulative_skill

    t0 = time.perf_counter()
    record = load_record(app.record)
    spec = app.origins or f"{record.periods[record.n_months // 2 - 1]}:{record.periods[-2]}"
    mask = record.window(spec)
    origins = [int(k) + 1 for k in np.flatnonzero(mask)]  # months each forecast may see
    if not origins or origins[0] < 3:
        raise RecordError(
            f"origins = {spec!r} must leave at least 3 months to fit on before the first origin"
        )
    if origins[-1] >= record.n_months:
        raise RecordError(
            f"origins = {spec!r}: the last origin {record.periods[-1]} leaves no month to forecast"
        )
    horizons = tuple(sorted({int(h) for h in app.horizons}))
    if not horizons or horizons[0] < 1:
        raise RecordError(f"horizons = {list(app.horizons)} must be whole numbers >= 1")
    name = "model"
    m = ModelForecaster(name, tuple(app.fit.params), dict(app.model), draws=app.rolling.draws,
                        paths=app.rolling.paths, posterior=app.rolling.posterior,
                        restarts=app.rolling.restarts, seed=app.fit.seed)  # fmt: skip
    print(f"Stalemate {sim.__version__} — rolling-origin forecasts of {record.name}: "
          f"{len(origins)} origins ({spec}), horizons {list(horizons)}, "
          f"{len(m.params)} free parameters, posterior by {m.posterior}")  # fmt: skip
    scores = rolling_origin(record, [m], origins, horizons,
                            progress=app.progress and sys.stderr.isatty())  # fmt: skip
    table = skill(scores, name, BASELINES, seed=app.fit.seed)
    out.mkdir(parents=True, exist_ok=True)
    from sim.report.io import write_parquet

    write_parquet(
        scores, out / "scores.parquet", {"record": record.name, "version": sim.__version__}
    )
    write_text(table.drop(columns=["n", "block"]).to_csv(index=False), out / "skill.csv")
    fig = plot_cumulative_skill(scores, name, BASELINES,
                                title=f"{record.name}: the model against the baselines, "
                                      f"cumulative log score (origins {spec})")  # fmt: skip
    save_figure(fig, out / "skill.png", dpi=120)
    means = scores.groupby(["horizon", "model"])[["log", "brier", "rps"]].mean()
    result = {
        "record": record.name, "origins": spec, "horizons": list(horizons),
        "params": list(m.params), "posterior": m.posterior,
        "mean_scores": {f"{h}|{mod}": v for (h, mod), v in means.to_dict("index").items()},
        "skill": table.to_dict("records"), "fits": {record.periods[o - 1]: v for o, v in m.fit_info.items()},
        "version": sim.__version__, "config": OmegaConf.to_container(OmegaConf.structured(app)),
    }  # fmt: skip
    write_json(result, out / "rolling.json")
    print(rolling_report(table, means))
    print(
        f"\n{time.perf_counter() - t0:.0f} s. Results in {out}/: scores.parquet, skill.csv, skill.png, rolling.json"
    )
    return result


def rolling_report(table, means) -> str:
    """The skill table in words: the model against each baseline, per horizon and score."""
    lines = ["Mean score per actor-month (log: higher is better; Brier, RPS: lower is better):"]
    for (h, mod), row in means.iterrows():
        lines.append(
            f"  h={h}  {mod:<13} log {row['log']:7.3f}   Brier {row['brier']:.3f}   RPS {row['rps']:.3f}"
        )
    lines.append("Skill of the model against each baseline (mean difference per actor-month, "
                 "+ = model better, 95% block-bootstrap interval):")  # fmt: skip
    for (b, h), grp in table.groupby(["baseline", "horizon"], sort=False):
        parts = [
            f"{r.score} {r.mean_diff:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]" for r in grp.itertuples()
        ]
        verdict = (
            "beats" if (grp["lo"] > 0).all() else "loses to" if (grp["hi"] < 0).all() else "ties"
        )
        lines.append(f"  h={h}  vs {b:<13} " + "   ".join(parts) + f"   -> {verdict}")
    return "\n".join(lines)


def _forecasts(model: RecordModel, record, draws: np.ndarray, train: np.ndarray, seed: int) -> dict:
    """The posterior predictive of every month after the training window, made at its end
    (types drawn from the belief the training months left: :meth:`RecordModel.forecast`),
    with what happened beside it."""
    origin = int(np.flatnonzero(train)[-1]) + 1  # months the forecast may see
    horizon = record.n_months - origin
    if horizon <= 0:
        return {}
    probs = model.forecast(draws[:400], origin, horizon, paths=16, seed=seed).mean(axis=0)
    out: dict = {"origin": record.periods[origin - 1], "months": record.periods[origin:]}
    for i, actor in enumerate(record.actors):
        observed = record.actions[origin:, i]
        out[actor] = {
            "probabilities": {name: probs[:, i, a].round(4).tolist() for a, name in enumerate(ACTION_NAMES)},
            "observed": [ACTION_NAMES[a] for a in observed],
            "shares": {name: float(probs[:, i, a].mean()) for a, name in enumerate(ACTION_NAMES)},
            "record_shares": {name: float((observed == a).mean()) for a, name in enumerate(ACTION_NAMES)},
        }  # fmt: skip
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


def calibrated_yaml(keys, values, record: str, train: str, structure=None) -> str:
    """The posterior means as a config file for the ``actors`` group (``actors=calibrated_2018``);
    a key naming a role or every actor is written for each of its actors."""
    body = OmegaConf.to_yaml(OmegaConf.create(as_changes(keys, np.round(values, 4), structure)))
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
    fc = result.get("forecast") or {}
    if fc:
        lines.append(f"Forecast made at {fc['origin']} for {fc['months'][0]} .. {fc['months'][-1]} "
                     "(expected share of months, posterior predictive; the record in brackets):")  # fmt: skip
        for actor, v in fc.items():
            if isinstance(v, dict) and "shares" in v:
                lines.append(f"  {actor:<6} " + "   ".join(
                    f"{a} {v['shares'][a]:.2f} ({v['record_shares'][a]:.2f})" for a in ACTION_NAMES))  # fmt: skip
    return "\n".join(lines)


@hydra.main(config_path=f"pkg://{CONFIG_MODULE}", config_name="fit", version_base="1.3")
def _main(cfg: DictConfig) -> None:
    app: FitApp = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(FitApp),
                                                      {k: v for k, v in cfg.items() if k != "hydra"}))  # fmt: skip
    try:
        if app.evaluate == "rolling":
            run_rolling(app, Path(HydraConfig.get().runtime.output_dir))
        elif app.evaluate == "holdout":
            run_fit(app, Path(HydraConfig.get().runtime.output_dir))
        else:
            raise ConfigError(
                f"evaluate = {app.evaluate!r} is not allowed; choose one of: holdout, rolling"
            )
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
