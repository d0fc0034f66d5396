"""``stalemate-fit``: estimate the model from coded records, and judge it on what it was not fitted to.

Usage::

    stalemate-fit                                    # the packaged 2018–2019 record, default windows
    stalemate-fit record=us_dprk_2018_2019 train=2018-01:2019-02 test=2019-03:2019-12
    stalemate-fit record=path/to/case.csv train=… test=…   # any record in the same format
    stalemate-fit record=us_dprk_1993_1995,libya_2002_2004,us_dprk_2016_2017,us_dprk_2018_2019   # pooled
    stalemate-fit record=us_dprk_2018_2019 evaluate=rolling origins=2018-12:2019-11 'horizons=[1,3]'
    stalemate-fit record=a,b,c,d evaluate=loco k=6   # leave one case out, predict it
    stalemate-fit 'fit.params=[rationality,target.concede.bias]'   # choose the free parameters
    stalemate-fit fit.posterior=mcmc                 # emcee instead of the Laplace approximation

Every value, record and window is checked before anything is written; a refusal is
one line on stderr with exit status 2. Results go into ``hydra.run.dir`` (default
``results/fit/<record>/<time>/``), written into a hidden folder beside it and renamed
into place once complete: a fit that is killed leaves no folder that looks finished.

A single record (``evaluate=holdout``) writes ``fit.json`` (estimates, intervals,
training log-likelihood, held-out scores of the model and of the four baselines,
posterior summary, forecasts, config and version), ``test_scores.csv``,
``posterior.parquet``, ``record_fit.png``, ``calibrated_actors.yaml`` and ``config.yaml``.
Several records give a pooled fit (:mod:`sim.analysis.pooled`): ``fit.json`` for the
pool, and per case its estimates, ``record_fit_<case>.png`` and ``calibrated_<case>.yaml``.
``evaluate=rolling`` writes ``scores.parquet``, ``skill.csv``, ``skill.png`` and
``rolling.json``; ``evaluate=loco`` writes ``loco_scores.parquet``, ``loco.csv``,
``loco.png`` and ``loco.json``.

A posterior sampled with ``fit.posterior=mcmc`` that has not converged within its
budget is not reported: the command stops (exit status 3) and says what to run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.model.validation import ConfigError, param, validate

EVALUATIONS = ("holdout", "rolling", "loco")
POSTERIORS = ("laplace", "mcmc")
#: The largest seed (seeds are int64 and >= 0).
MAX_SEED = 2**63 - 1


@dataclass
class McmcSettings:
    """The posterior sampler (emcee): it stops once converged, within a budget of steps."""

    steps: int = param(
        20000, 1, 1_000_000, "the budget: the most steps (adaptive: it stops once converged)"
    )
    burn: int = param(500, 0, None, "steps discarded at the start (fewer than steps)")
    walkers: int = param(0, 0, 10_000, "walkers; 0: max(32, 4 x free parameters)")
    adaptive: bool = param(
        True, doc="stop once R-hat < 1.01 and >= 50 autocorrelation times after burn-in"
    )
    require_convergence: bool = param(True, doc="report no posterior that has not converged")

    def __validate__(self, prefix: str = "") -> None:
        if self.burn >= self.steps:
            raise ConfigError(
                f"{prefix}burn = {self.burn} must be less than {prefix}steps = {self.steps} "
                "(the steps discarded come out of the budget)"
            )


@dataclass
class FitSettings:
    """What to estimate and how."""

    params: list[str] = param(
        list,
        doc="dotted parameter keys to estimate; []: DEFAULT_PARAMS for the records' roles",
        check=lambda key, value: _check_params(key, value),
    )
    posterior: str = param(
        "laplace",
        doc="laplace (mode and Gaussian: seconds) | mcmc (emcee: exact, slower)",
        choices=POSTERIORS,
    )
    restarts: int = param(4, 1, 1000, "starts of the maximum-likelihood search")
    seed: int = param(0, 0, MAX_SEED, "seed of the starts and of the posterior draws")
    draws: int = param(
        2000, 1, 100_000, "posterior draws kept (figure bands, forecasts, posterior.parquet)"
    )
    tau: float = param(
        1.0,
        0,
        None,
        "pooled fits: spread of a case's preferences around the role mean (log-odds)",
        strict=True,
    )
    mcmc: McmcSettings = field(default_factory=McmcSettings)


@dataclass
class RollingSettings:
    """How each origin's model is fitted in a rolling-origin evaluation."""

    posterior: str = param(
        "laplace", doc="laplace (seconds per origin) | mcmc (exact, minutes)", choices=POSTERIORS
    )
    draws: int = param(200, 1, 10_000, "posterior draws the forecast averages over")
    paths: int = param(16, 1, 10_000, "paths per draw for the months after the first")
    restarts: int = param(4, 1, 1000, "starts of each origin's maximum-likelihood search")


@dataclass
class FitApp:
    """A fit of the model to one or several records."""

    record: str = param(
        "us_dprk_2018_2019",
        doc="a packaged record or a .csv path; several, comma-separated",
    )
    train: str = param("2018-01:2019-02", doc="one record: the months fitted (inclusive)")
    test: str = param("2019-03:2019-12", doc="one record: the months held out and scored")
    evaluate: str = param("holdout", doc="holdout | rolling | loco", choices=EVALUATIONS)
    origins: str = param("", doc="rolling: 'YYYY-MM:YYYY-MM', the last month each forecast may see")
    horizons: list[int] = param(lambda: [1, 3], 1, 120, "rolling: months ahead", min_items=1)
    k: int = param(6, 0, 1200, "loco: months of the left-out case its parameters may use (0: none)")
    rolling: RollingSettings = field(default_factory=RollingSettings)
    fit: FitSettings = field(default_factory=FitSettings)
    model: dict[str, Any] = param(dict, doc="fixed model parameters for the records")
    progress: bool = param(True, doc="show progress bars")


def _check_params(key: str, value) -> None:
    if any(not isinstance(p, str) or not p for p in value):
        raise ConfigError(f"{key} = {list(value)!r} must be dotted parameter keys")


def check_app(app: FitApp) -> None:
    """Every setting of the fit against its :func:`~sim.model.validation.param`
    metadata and rules (:func:`sim.model.validation.validate`), before anything is written.

    Raises:
        ConfigError: for the first value that is not allowed, naming its key.
    """
    validate(app)


def _register() -> None:
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    ConfigStore.instance().store(name="fit_schema", node=FitApp)
    OmegaConf.register_new_resolver("stem", _stem, replace=True)


def _stem(p) -> str:
    first = str(p).split(",")[0]
    name = Path(first).stem
    return name if "," not in str(p) else f"pooled_{len(str(p).split(','))}_cases"


def load_records(spec: str):
    """The records named by ``record=`` (comma-separated), each checked."""
    from sim.analysis.record import RecordError, load_record

    items = list(spec) if isinstance(spec, list | tuple) else str(spec).split(",")
    names = [str(s).strip() for s in items]
    if not all(names):
        raise RecordError(f"record = {spec!r}: an empty name between commas")
    if len(set(names)) != len(names):
        raise RecordError(f"record = {spec!r} names a record twice")
    return [load_record(n) for n in names]


def windows(app: FitApp, record):
    """The training and test masks of a single-record fit, checked."""
    from sim.analysis.record import RecordError

    train, test = record.window(app.train), record.window(app.test)
    if not train.any():
        raise RecordError(f"train = {app.train!r} selects no month of {record.name}")
    if (train & test).any():
        raise RecordError(
            f"train = {app.train!r} and test = {app.test!r} overlap; held-out months must be left out"
        )
    import numpy as np

    if test.any() and np.flatnonzero(test)[0] < np.flatnonzero(train)[-1]:
        raise RecordError(
            f"test = {app.test!r} starts before the end of train = {app.train!r}; the held-out "
            "months must come after every month fitted (a forecast cannot use the future)"
        )
    return train, test


def prepare(app: FitApp) -> dict:
    """Everything a fit needs, checked: the records, windows and models. Raises ConfigError.

    The checks that need no model come first: a refusal of a value, a record or a window
    costs no import of the estimation (numba's kernels, SciPy's optimisers)."""
    from sim.analysis.record import RecordError

    check_app(app)
    records = load_records(app.record)
    plan: dict = {"records": records}
    if app.evaluate == "loco":
        if len(records) < 2:
            raise RecordError("evaluate = 'loco' needs at least two records (record=a,b,…)")
        for r in records:
            if app.k >= r.n_months - 1:
                raise RecordError(
                    f"k = {app.k} leaves no month of {r.name} ({r.n_months} months) to predict"
                )
        return plan
    if len(records) > 1:
        if app.evaluate != "holdout":
            raise RecordError(
                f"evaluate = {app.evaluate!r} takes one record; several give a pooled fit"
            )
        return plan
    rec = records[0]
    if app.evaluate == "rolling":
        import numpy as np

        spec = app.origins or f"{rec.periods[rec.n_months // 2 - 1]}:{rec.periods[-2]}"
        origins = [int(k) + 1 for k in np.flatnonzero(rec.window(spec))]
        if not origins or origins[0] < 3:
            raise RecordError(
                f"origins = {spec!r} must leave at least 3 months to fit on before the first origin"
            )
        if origins[-1] >= rec.n_months:
            raise RecordError(
                f"origins = {spec!r}: the last origin {rec.periods[-1]} leaves no month to forecast"
            )
        plan.update(origins=origins, origins_spec=spec)
        from sim.analysis.estimate import RecordModel, params_for

        RecordModel(rec, list(app.fit.params) or params_for(rec), **dict(app.model))
        return plan
    plan["windows"] = windows(app, rec)
    from sim.analysis.estimate import RecordModel

    plan["model"] = RecordModel(rec, list(app.fit.params) or None, **dict(app.model))
    return plan


# ----------------------------------------------------------------------------------
# a single record


def run_fit(app: FitApp, out: Path, plan: dict | None = None) -> dict:
    """Fit one record, sample, score, forecast and write; return what fit.json holds."""
    import numpy as np
    from omegaconf import OmegaConf

    import sim
    from sim.analysis.estimate import NotConverged, waic
    from sim.analysis.forecast import held_out_scores
    from sim.engines.provenance import provenance
    from sim.report.io import save_figure, write_json, write_parquet, write_text
    from sim.report.plots import plot_record_fit

    plan = plan or prepare(app)
    say = print
    t0 = time.perf_counter()
    record = plan["records"][0]
    train, test = plan["windows"]
    model = plan["model"]
    k = len(model.free)
    say(f"Stalemate {sim.__version__} — fitting {k} parameters to {record.name} "
        f"({record.n_months} months x {len(record.actors)} actors), posterior by {app.fit.posterior}")  # fmt: skip
    say(
        f"  training months {app.train} ({int(train.sum())}), held-out months {app.test or 'none'} ({int(test.sum())})"
    )
    ll_default = float(model.loglik(model.default_values()[None], train)[0])
    post, mode = posterior(app, model, train)
    if not post.converged and app.fit.mcmc.require_convergence:
        raise NotConverged(
            "the posterior did not converge, so it is not reported: " + "; ".join(post.problems)
            + f". Run a longer chain, e.g. fit.mcmc.steps={2 * app.fit.mcmc.steps}, or fit.posterior=laplace"
        )  # fmt: skip
    draws = thinned(post.draws, app.fit.draws, app.fit.seed)
    ll_mode = float(model.loglik(mode[None], train)[0])
    say(
        f"  log-likelihood at the posterior mode {ll_mode:.2f} (the configured values {ll_default:.2f})"
    )
    scores, rows = held_out_scores(model, draws[:400], train, test) if test.any() else ({}, [])
    _, probs_draws, _ = model.replay(draws[:400])
    mean_probs = probs_draws.mean(axis=0)
    band = (np.quantile(probs_draws, 0.05, axis=0), np.quantile(probs_draws, 0.95, axis=0))
    forecasts = _forecasts(model, record, draws, train, app.fit.seed)
    means = draws.mean(axis=0)
    summ = post.summary()
    result = {
        "params": dict(zip(model.keys, map(float, mode))),
        "ci": {k: [summ[k]["q2.5"], summ[k]["q97.5"]] for k in model.keys},
        "posterior_mean": dict(zip(model.keys, map(float, means))),
        "loglik_train": ll_mode,
        "n_train": int(train.sum()) * len(record.actors),
        "test": scores,
        "test_by_actor": _by_actor(rows),
        "record": record.name,
        "train": app.train,
        "test_window": app.test,
        "loglik_train_default": ll_default,
        "waic": waic(model, draws[:1000], train),
        "posterior": posterior_info(app, model, post),
        "forecast": forecasts,
        **provenance(),
        "config": OmegaConf.to_container(OmegaConf.structured(app)),
    }
    write_json(result, out / "fit.json")
    if rows:
        import pandas as pd

        write_text(pd.DataFrame(rows).to_csv(index=False), out / "test_scores.csv")
    import pandas as pd

    write_parquet(pd.DataFrame(draws, columns=model.keys), out / "posterior.parquet",
                  {"record": record.name, "train": app.train, **provenance(),
                   "summary": post.summary()})  # fmt: skip
    fig = plot_record_fit(record.periods, record.actors, record.actions, mean_probs, train, test,
                          f"{record.name}: the record and the fitted model's one-step-ahead probabilities "
                          "(posterior mean, 90% band)", band)  # fmt: skip
    save_figure(fig, out / "record_fit.png", dpi=110)
    write_text(calibrated_yaml(model.keys, means, record.name, app.train, model.compiled.structure),
               out / "calibrated_actors.yaml")  # fmt: skip
    say("\n" + report(result))
    say(f"\n{time.perf_counter() - t0:.0f} s.")
    return result


def posterior(app: FitApp, model, months):
    """The posterior by the chosen method (a :class:`~sim.analysis.estimate.Posterior`) and
    its mode (config values: the point estimate the fit reports)."""
    from sim.analysis.estimate import Posterior, laplace_posterior, sample_posterior

    lap = laplace_posterior(model, months, draws=max(app.fit.draws, 4000), restarts=app.fit.restarts,
                            seed=app.fit.seed)  # fmt: skip
    if app.fit.posterior == "laplace":
        return Posterior.from_laplace(lap), lap.mode
    post = sample_posterior(model, months, lap.mode, walkers=app.fit.mcmc.walkers or None,
                            steps=app.fit.mcmc.steps, burn=app.fit.mcmc.burn, seed=app.fit.seed,
                            adaptive=app.fit.mcmc.adaptive,
                            progress=app.progress and sys.stderr.isatty())  # fmt: skip
    return post, lap.mode


def posterior_info(app: FitApp, model, post) -> dict:
    out = {
        "method": app.fit.posterior,
        "summary": post.summary(),
        "converged": post.converged,
        "problems": post.problems,
        "priors": {p.key: p.prior.describe() + (" on the logit scale" if k in set(getattr(model, "utility_cols", [])) else "")
                   for k, p in enumerate(model.free)},
    }  # fmt: skip
    if app.fit.posterior == "mcmc":
        out.update(acceptance=post.acceptance, walkers=int(post.chains.shape[0]),
                   steps_after_burn=int(post.chains.shape[1]))  # fmt: skip
    return out


def thinned(draws, n: int, seed: int):
    """At most ``n`` of the posterior draws, chosen at random without replacement."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(draws), size=min(n, len(draws)), replace=False))
    return draws[pick]


def _forecasts(model, record, draws, train, seed: int) -> dict:
    """The posterior predictive of every month after the training window, made at its end
    (types drawn from the belief the training months left), with what happened beside it."""
    import numpy as np

    from sim.model.names import ACTION_NAMES

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
    import numpy as np
    from omegaconf import OmegaConf

    from sim.analysis.estimate import as_changes

    body = OmegaConf.to_yaml(OmegaConf.create(as_changes(keys, np.round(values, 4), structure)))
    return (
        "# @package _global_\n"
        f"# Posterior means from `stalemate-fit record={record} train={train}` (docs/calibration.md).\n"
        "# Every other preference keeps its default.\n" + body
    )


def report(result: dict) -> str:
    """What the command prints: estimates with intervals, fit, held-out scores, forecasts."""
    from sim.model.names import ACTION_NAMES

    post = result["posterior"]
    lines = [
        f"Estimates (posterior mode; posterior mean, 95% credible interval; posterior by {post['method']}):"
    ]
    summ = post["summary"]
    for key, v in result["params"].items():
        s = summ[key]
        extra = f"  R-hat {s['rhat']:.3f}, ESS {s['ess']:,.0f}" if post["method"] == "mcmc" else ""
        lines.append(
            f"  {key:<36} {v:8.3f}   {s['mean']:8.3f} [{s['q2.5']:8.3f}, {s['q97.5']:8.3f}]{extra}"
        )
    w = result["waic"]
    lines.append(f"Training log-likelihood at the mode {result['loglik_train']:.2f}, configured values "
                 f"{result['loglik_train_default']:.2f} ({result['n_train']} actor-months); WAIC {w['waic']:.1f} "
                 f"(effective parameters {w['p_waic']:.1f})")  # fmt: skip
    if result["test"]:
        lines.append(
            "Held-out months, one month ahead (log score: higher is better; Brier: lower is better):"
        )
        best = max(result["test"], key=lambda m: result["test"][m]["log_score"])
        for name, sc in result["test"].items():
            mark = "  <- best" if name == best else ""
            lines.append(
                f"  {name:<13} log score {sc['log_score']:8.2f}   Brier {sc['brier']:.3f}   n {sc['n']}{mark}"
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


# ----------------------------------------------------------------------------------
# several records: a pooled fit


def run_pooled(app: FitApp, out: Path, plan: dict | None = None) -> dict:
    """Fit several records together (:class:`~sim.analysis.pooled.PooledModel`) and write
    the pool's estimates and, per case, its own."""
    import numpy as np
    import pandas as pd
    from omegaconf import OmegaConf

    import sim
    from sim.analysis.estimate import laplace_posterior
    from sim.analysis.pooled import PooledModel
    from sim.engines.provenance import provenance
    from sim.report.io import save_figure, write_json, write_parquet, write_text
    from sim.report.plots import plot_record_fit

    plan = plan or prepare(app)
    t0 = time.perf_counter()
    records = plan["records"]
    shared, by_case = pooled_keys(app)
    pm = PooledModel(records, shared, by_case, tau=app.fit.tau, changes=dict(app.model))
    print(f"Stalemate {sim.__version__} — pooled fit of {len(pm.keys)} parameters to {len(records)} cases "
          f"({', '.join(r.name for r in records)}): {len(pm.shared)} shared, role preferences pooled with tau {app.fit.tau:g}")  # fmt: skip
    lap = laplace_posterior(
        pm, None, draws=max(app.fit.draws, 4000), restarts=app.fit.restarts, seed=app.fit.seed
    )
    draws = thinned(lap.draws, app.fit.draws, app.fit.seed)
    summary = {k: {"mean": float(draws[:, j].mean()), "sd": float(draws[:, j].std()),
                   "q2.5": float(np.quantile(draws[:, j], 0.025)), "q97.5": float(np.quantile(draws[:, j], 0.975)),
                   "mode": float(lap.mode[j])} for j, k in enumerate(pm.keys)}  # fmt: skip
    cases = {}
    for c in pm.cases:
        rec = c.model.record
        vals = pm.case_values(draws, c)
        _, probs, _ = c.model.replay(vals[:400])
        fig = plot_record_fit(rec.periods, rec.actors, rec.actions, probs.mean(axis=0), c.months,
                              np.zeros(rec.n_months, dtype=bool),
                              f"{rec.name}: the record and the pooled model's one-step-ahead probabilities",
                              (np.quantile(probs, 0.05, axis=0), np.quantile(probs, 0.95, axis=0)))  # fmt: skip
        save_figure(fig, out / f"record_fit_{rec.name}.png", dpi=100)
        keys = pm.case_keys(c)
        means = vals.mean(axis=0)
        write_text(calibrated_yaml(keys, means, rec.name, "pooled", c.model.compiled.structure),
                   out / f"calibrated_{rec.name}.yaml")  # fmt: skip
        cases[rec.name] = {
            "params": dict(zip(keys, map(float, means))),
            "loglik_at_mode": float(c.model.loglik(pm.case_values(lap.mode[None], c), c.months)[0]),
            "months": int(c.months.sum()),
        }
    result = {
        "records": [r.name for r in records], "tau": app.fit.tau, "shared": pm.shared,
        "by_case": pm.by_case, "summary": summary, "cases": cases,
        "log_posterior_mode": lap.log_posterior, **provenance(),
        "config": OmegaConf.to_container(OmegaConf.structured(app)),
    }  # fmt: skip
    write_json(result, out / "fit.json")
    write_parquet(pd.DataFrame(draws, columns=pm.keys), out / "posterior.parquet",
                  {"records": [r.name for r in records], **provenance()})  # fmt: skip
    print("Shared parameters and role means (posterior mean [95% interval]):")
    for key in [*pm.shared, *[f"mean.{k}" for k in pm.by_case]]:
        if key in summary:
            s = summary[key]
            print(f"  {key:<40} {s['mean']:8.3f} [{s['q2.5']:8.3f}, {s['q97.5']:8.3f}]")
    print(f"\n{time.perf_counter() - t0:.0f} s.")
    return result


# ----------------------------------------------------------------------------------
# rolling origin, and leave one case out


def run_rolling(app: FitApp, out: Path, plan: dict | None = None) -> dict:
    """Rolling-origin forecasts of the model and the four baselines, scored and compared
    (:mod:`sim.analysis.forecast`); writes scores.parquet, skill.csv, skill.png and
    rolling.json."""
    from omegaconf import OmegaConf

    import sim
    from sim.analysis.estimate import params_for
    from sim.analysis.forecast import BASELINES, ModelForecaster, rolling_origin, skill
    from sim.engines.provenance import provenance
    from sim.report.io import save_figure, write_json, write_parquet, write_text
    from sim.report.skill import plot_cumulative_skill

    plan = plan or prepare(app)
    t0 = time.perf_counter()
    record = plan["records"][0]
    origins, spec = plan["origins"], plan["origins_spec"]
    horizons = tuple(sorted({int(h) for h in app.horizons}))
    name = "model"
    m = ModelForecaster(name, tuple(app.fit.params or params_for(record)), dict(app.model),
                        draws=app.rolling.draws, paths=app.rolling.paths, posterior=app.rolling.posterior,
                        restarts=app.rolling.restarts, seed=app.fit.seed)  # fmt: skip
    print(f"Stalemate {sim.__version__} — rolling-origin forecasts of {record.name}: "
          f"{len(origins)} origins ({spec}), horizons {list(horizons)}, "
          f"{len(m.params)} free parameters, posterior by {m.posterior}")  # fmt: skip
    scores = rolling_origin(
        record, [m], origins, horizons, progress=app.progress and sys.stderr.isatty()
    )
    table = skill(scores, name, BASELINES, seed=app.fit.seed)
    write_parquet(scores, out / "scores.parquet", {"record": record.name, **provenance()})
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
        **provenance(), "config": OmegaConf.to_container(OmegaConf.structured(app)),
    }  # fmt: skip
    write_json(result, out / "rolling.json")
    print(rolling_report(table, means))
    print(f"\n{time.perf_counter() - t0:.0f} s.")
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


def pooled_keys(app: FitApp) -> tuple[list[str], list[str]]:
    """A pooled fit's shared keys and its keys by case: ``fit.params`` split by whether a
    key is one of the roles' standing preferences (:data:`CASE_PARAMS`), or the defaults."""
    from sim.analysis.estimate import CASE_PARAMS, SHARED_PARAMS

    shared = [k for k in (app.fit.params or SHARED_PARAMS) if k not in CASE_PARAMS]
    by_case = (
        list(CASE_PARAMS) if not app.fit.params else [k for k in app.fit.params if k in CASE_PARAMS]
    )
    return shared, by_case


def run_loco(app: FitApp, out: Path, plan: dict | None = None) -> dict:
    """Leave each case out, fit the rest pooled, predict it (:mod:`sim.analysis.loco`)."""
    from omegaconf import OmegaConf

    import sim
    from sim.analysis.loco import leave_one_out, loco_table
    from sim.engines.provenance import provenance
    from sim.report.io import save_figure, write_json, write_parquet, write_text
    from sim.report.skill import plot_loco

    plan = plan or prepare(app)
    t0 = time.perf_counter()
    records = plan["records"]
    shared, by_case = pooled_keys(app)
    print(f"Stalemate {sim.__version__} — leave one case out over {len(records)} cases, k = {app.k} "
          f"months of the left-out case, tau {app.fit.tau:g}")  # fmt: skip
    scores, notes = leave_one_out(records, shared, by_case, k=app.k, tau=app.fit.tau,
                                  draws=app.rolling.draws, restarts=app.rolling.restarts,
                                  seed=app.fit.seed, changes=dict(app.model),
                                  progress=app.progress and sys.stderr.isatty())  # fmt: skip
    table = loco_table(scores, seed=app.fit.seed)
    write_parquet(scores, out / "loco_scores.parquet", {**provenance()})
    write_text(table.to_csv(index=False), out / "loco.csv")
    save_figure(plot_loco(table, app.k), out / "loco.png", dpi=120)
    result = {"k": app.k, "tau": app.fit.tau, "table": table.to_dict("records"), "notes": notes,
              **provenance(), "config": OmegaConf.to_container(OmegaConf.structured(app))}  # fmt: skip
    write_json(result, out / "loco.json")
    print(loco_report(table))
    print(f"\n{time.perf_counter() - t0:.0f} s.")
    return result


def loco_report(table) -> str:
    lines = ["Left-out case: the model's mean log score per actor-month against each baseline "
             "(difference, + = model better, 95% interval):"]  # fmt: skip
    for case, grp in table[table["score"] == "log"].groupby("case", sort=False):
        model_mean = grp["model_mean"].iloc[0]
        parts = [
            f"{r.baseline} {r.mean_diff:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}]" for r in grp.itertuples()
        ]
        lines.append(f"  {case:<20} model {model_mean:6.3f}   " + "   ".join(parts))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------
# the command


def compose(argv: list[str]):
    """The composed config of a command line (Hydra's compose API, as hydra.main would)."""
    from sim.hydra.refuse import compose_like_hydra

    _register()
    cfg, multirun = compose_like_hydra("fit", argv, False)
    return cfg, multirun


def to_app(cfg) -> FitApp:
    from omegaconf import OmegaConf

    data = {k: v for k, v in cfg.items() if k != "hydra"}
    app = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(FitApp), data))
    assert isinstance(app, FitApp)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``stalemate-fit`` console script: check everything, then fit."""
    from sim.report.io import skip_final_collection

    skip_final_collection()
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return
    if any(a.startswith("-") for a in argv if a not in ("--cfg", "job", "--resolve")):
        bad = next(a for a in argv if a.startswith("-"))
        _refuse(
            f"command line: {bad} is not an option of stalemate-fit; give key=value overrides (--help shows them)"
        )
    show = "--cfg" in argv
    overrides = [_quote_records(a) for a in argv if a not in ("--cfg", "job", "--resolve")]
    from sim.hydra.refuse import Refusal, check_output_dir, explain
    from sim.model.validation import ConfigError

    try:
        cfg, multirun = compose(overrides)
        if multirun:
            raise Refusal("stalemate-fit runs one fit; give single values (no -m, no comma sweeps)")
        if show:
            from omegaconf import OmegaConf

            print(OmegaConf.to_yaml({k: v for k, v in cfg.items() if k != "hydra"}))
            return
        app = to_app(cfg)
        plan = prepare(app)
        out = Path(str(cfg.hydra.run.dir)).expanduser()
        if out.is_dir() and any(out.iterdir()):
            raise Refusal(
                f"hydra.run.dir = {out} is not empty: a fit writes into a new or empty directory"
            )
        check_output_dir(out, "run")
    except (Refusal, ConfigError) as err:
        _refuse(str(err))
    except Exception as err:  # noqa: BLE001 - any composition error is a one-line refusal
        _refuse(explain(err))
    _run(app, plan, out, cfg)


def _quote_records(override: str) -> str:
    """``record=a,b,c`` names several records, not a sweep: quoted for Hydra's grammar."""
    key, eq, value = override.partition("=")
    if key == "record" and eq and "," in value and value[:1] not in "'\"[":
        return f"record='{value}'"
    return override


def _refuse(message: str) -> None:
    from sim.model.validation import refusal

    print(refusal("stalemate-fit", message or "refused"), file=sys.stderr)
    raise SystemExit(2)


def _run(app: FitApp, plan: dict, out: Path, cfg) -> None:
    """Fit into the hidden partial folder beside ``out`` under its lock (one fit per
    folder), and rename it into place once complete (:func:`sim.hydra.staged.staged`)."""
    from omegaconf import OmegaConf

    from sim.analysis.estimate import NotConverged
    from sim.hydra.lock import LockBusy
    from sim.hydra.staged import staged
    from sim.model.validation import ConfigError, refusal
    from sim.report.io import write_text

    try:
        with staged(out, "fit", notes=lambda note: print(note, file=sys.stderr)) as work:
            write_text(
                OmegaConf.to_yaml({k: v for k, v in cfg.items() if k != "hydra"}),
                work / "config.yaml",
            )
            if app.evaluate == "rolling":
                run_rolling(app, work, plan)
            elif app.evaluate == "loco":
                run_loco(app, work, plan)
            elif len(plan["records"]) > 1:
                run_pooled(app, work, plan)
            else:
                run_fit(app, work, plan)
    except LockBusy as err:
        _refuse(str(err))
    except (ConfigError, NotConverged) as err:
        import shutil

        from sim.report.staging import partial_dir

        shutil.rmtree(partial_dir(out), ignore_errors=True)  # nothing of a refused fit is kept
        line = refusal("stalemate-fit", err) if isinstance(err, ConfigError) else None
        print(line or f"stalemate-fit: {str(err).splitlines()[0]}", file=sys.stderr)
        raise SystemExit(2 if isinstance(err, ConfigError) else 3) from None
    files = ", ".join(sorted(p.name for p in out.iterdir()))
    print(f"Results in {out}/: {files}")


if __name__ == "__main__":
    main()
