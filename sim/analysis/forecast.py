"""Rolling-origin forecasts of a record: the model against the baselines a forecaster would use.

At every origin (the last month the models may see), every model is fitted afresh on
the months up to it (an expanding window), forecasts the next ``h`` months, and each
actor-month is scored with proper scores. Forecasting work on political events (the
VIEWS benchmarks, reviews of conflict forecasting) sets "nothing changes" as the floor:
a mechanism earns its place by what it adds above it.

Scores (:func:`score_table`), each of one actor-month's forecast ``p`` (concede, hedge,
escalate) against the action that happened:

- ``log``: log p[observed] (higher is better);
- ``brier``: sum over actions of (p − 1[observed])² (lower is better);
- ``rps``: the ranked probability score for the ordered actions concede < hedge <
  escalate, sum over k of (P(action ≤ k) − 1[observed ≤ k])² (lower is better;
  scoringrules' ``rps_score``, which ``tests/test_forecast.py`` checks these against).

Baselines (:data:`BASELINES`), fitted on the same windows:

- ``persistence``: each actor repeats its move of the origin month, with probability
  its lag-h repeat rate in the window, add-one smoothed ((repeats + 1) / (pairs + 2));
  the other two moves share the rest equally;
- ``frequencies``: each actor's action shares in the window, add-one smoothed;
- ``markov``: a first-order Markov chain per actor, its transitions smoothed by a
  symmetric Dirichlet prior whose concentration is fitted on the window (the
  Dirichlet-multinomial evidence, pooled over actors); h months ahead: the h-step matrix;
- ``lagged_logit``: a multinomial logit (scikit-learn, L2 penalty C = 1) on actor
  effects and last month's moves of the actor and of its counterpart (the target
  watches the principal, the others the target); h months ahead: the joint chain of
  every actor's moves, exactly.

The model (:class:`ModelForecaster`): maximum likelihood, then the posterior (emcee,
stopped once converged), and the posterior predictive — each month's probabilities
averaged over posterior draws (:meth:`~sim.analysis.estimate.RecordModel.forecast`).

Example:
    >>> from sim.analysis.record import load_record
    >>> rec = load_record("us_dprk_2018_2019")
    >>> p = Persistence().fit(rec.actions, 12, rec_counterpart(rec)).predict(rec.actions, 12, 2)
    >>> p.shape, bool(np.allclose(p.sum(axis=-1), 1.0))
    ((2, 4, 3), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.analysis.record import Record

#: The baselines, by the names the outputs use.
BASELINES = ("persistence", "frequencies", "markov", "lagged_logit")
#: The scores, by name, and whether higher is better.
SCORES = {"log": True, "brier": False, "rps": False}
N_ACTIONS = 3


# ----------------------------------------------------------------------------------
# scores


def log_score(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """log p[observed] of each forecast (``p`` (..., 3), ``observed`` (...)); higher is better.

    Example:
        >>> float(log_score(np.array([0.2, 0.5, 0.3]), np.array(1)))
        -0.6931471805599453
    """
    chosen = np.take_along_axis(p, np.asarray(observed)[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore"):
        return np.log(chosen)


def brier_score(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Sum over actions of (p − 1[observed])²; lower is better.

    Example:
        >>> round(float(brier_score(np.array([0.2, 0.5, 0.3]), np.array(1))), 12)
        0.38
    """
    onehot = np.eye(p.shape[-1])[observed]
    return ((p - onehot) ** 2).sum(axis=-1)


def rps_score(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Ranked probability score for the ordered actions (concede < hedge < escalate):
    sum over k of (P(action ≤ k) − 1[observed ≤ k])²; lower is better.

    Example:
        >>> round(float(rps_score(np.array([0.2, 0.5, 0.3]), np.array(2))), 12)
        0.53
    """
    onehot = np.eye(p.shape[-1])[observed]
    return ((np.cumsum(p, axis=-1) - np.cumsum(onehot, axis=-1)) ** 2).sum(axis=-1)


SCORE_FUNCTIONS = {"log": log_score, "brier": brier_score, "rps": rps_score}


# ----------------------------------------------------------------------------------
# baselines


def rec_counterpart(record: Record) -> np.ndarray:
    """Whom each actor of a record watches: the target watches the principal, every other
    actor the target (as in the model)."""
    roles = [record.roles[a] for a in record.actors]
    target, principal = roles.index("target"), roles.index("principal")
    return np.array([principal if i == target else target for i in range(len(roles))])


class Baseline:
    """A forecaster fitted on a record's first ``origin`` months; ``predict`` gives the
    ``horizon`` months after them: (horizon, actors, 3)."""

    name = ""

    def fit(self, actions: np.ndarray, origin: int, counterpart: np.ndarray) -> Baseline:
        raise NotImplementedError

    def predict(self, actions: np.ndarray, origin: int, horizon: int) -> np.ndarray:
        raise NotImplementedError


class Persistence(Baseline):
    """Each actor repeats its last move, with its window's lag-h repeat rate (add-one)."""

    name = "persistence"

    def fit(self, actions, origin, counterpart):
        self.window = np.asarray(actions[:origin])
        return self

    def repeat_rate(self, h: int) -> np.ndarray:
        """Each actor's smoothed share of months that repeat the move h months before."""
        w = self.window
        if len(w) <= h:
            return np.full(w.shape[1], 0.5)
        same = (w[h:] == w[:-h]).sum(axis=0)
        return (same + 1.0) / (len(w) - h + 2.0)

    def predict(self, actions, origin, horizon):
        last = actions[origin - 1]
        A = actions.shape[1]
        out = np.empty((horizon, A, N_ACTIONS))
        for h in range(1, horizon + 1):
            rho = self.repeat_rate(h)
            out[h - 1] = ((1.0 - rho) / 2.0)[:, None]
            out[h - 1, np.arange(A), last] = rho
        return out


class Frequencies(Baseline):
    """Each actor's action shares in the window, add-one smoothed."""

    name = "frequencies"

    def fit(self, actions, origin, counterpart):
        w = np.asarray(actions[:origin])
        counts = np.stack([np.bincount(w[:, i], minlength=N_ACTIONS) for i in range(w.shape[1])])
        self.freq = (counts + 1.0) / (len(w) + N_ACTIONS)
        return self

    def predict(self, actions, origin, horizon):
        return np.broadcast_to(self.freq, (horizon, *self.freq.shape)).copy()


def dirichlet_evidence(counts: np.ndarray, alpha: float) -> float:
    """log of the Dirichlet-multinomial evidence of transition counts (rows, 3) under a
    symmetric Dirichlet(alpha) prior on each row."""
    from scipy.special import gammaln

    n = counts.sum(axis=-1)
    K = counts.shape[-1]
    return float(
        (gammaln(K * alpha) - gammaln(K * alpha + n)).sum()
        + (gammaln(alpha + counts) - gammaln(alpha)).sum()
    )


class Markov(Baseline):
    """A first-order Markov chain per actor, Dirichlet-smoothed, its concentration fitted
    on the window by the evidence."""

    name = "markov"

    def fit(self, actions, origin, counterpart):
        from scipy.optimize import minimize_scalar

        w = np.asarray(actions[:origin])
        A = w.shape[1]
        counts = np.zeros((A, N_ACTIONS, N_ACTIONS))
        for i in range(A):
            np.add.at(counts[i], (w[:-1, i], w[1:, i]), 1.0)
        res = minimize_scalar(lambda la: -dirichlet_evidence(counts, math.exp(la)),
                              bounds=(math.log(0.01), math.log(100.0)), method="bounded")  # fmt: skip
        self.alpha = math.exp(res.x)
        self.transition = (counts + self.alpha) / (counts + self.alpha).sum(axis=-1, keepdims=True)
        return self

    def predict(self, actions, origin, horizon):
        last = actions[origin - 1]
        A = actions.shape[1]
        out = np.empty((horizon, A, N_ACTIONS))
        for i in range(A):
            row = np.eye(N_ACTIONS)[last[i]]
            for h in range(horizon):
                row = row @ self.transition[i]
                out[h, i] = row
        return out


class LaggedLogit(Baseline):
    """Multinomial logit on actor effects and last month's own and counterpart's moves
    (L2, C = 1); several months ahead by the exact joint chain of all actors' moves."""

    name = "lagged_logit"
    C = 1.0

    def design(self, own: np.ndarray, other: np.ndarray, actor: np.ndarray) -> np.ndarray:
        """Rows of regressors: actor one-hot, own last move (concede, escalate vs hedge),
        counterpart's last move (likewise)."""
        A = self.n_actors
        X = np.zeros((len(own), A + 4))
        X[np.arange(len(own)), actor] = 1.0
        X[:, A] = own == 0
        X[:, A + 1] = own == 2
        X[:, A + 2] = other == 0
        X[:, A + 3] = other == 2
        return X

    def fit(self, actions, origin, counterpart):
        from sklearn.linear_model import LogisticRegression

        w = np.asarray(actions[:origin])
        A = w.shape[1]
        self.n_actors, self.counterpart = A, np.asarray(counterpart)
        t = np.repeat(np.arange(1, len(w)), A)
        i = np.tile(np.arange(A), len(w) - 1)
        X = self.design(w[t - 1, i], w[t - 1, self.counterpart[i]], i)
        y = w[t, i]
        weight = np.ones(len(y))
        # one light pseudo-row per action, so an action the window never saw keeps a
        # small probability (the log score of a zero is minus infinity)
        X = np.vstack([X, np.tile(self.design(np.ones(1, int), np.ones(1, int), np.zeros(1, int)),
                                  (N_ACTIONS, 1))])  # fmt: skip
        y = np.concatenate([y, np.arange(N_ACTIONS)])
        weight = np.concatenate([weight, np.full(N_ACTIONS, 0.01)])
        self.clf = LogisticRegression(C=self.C, max_iter=2000).fit(X, y, sample_weight=weight)
        return self

    def step_probs(self, last: np.ndarray) -> np.ndarray:
        """(states, actors, 3): each actor's probabilities given every actor's last moves
        (``last`` (states, actors))."""
        S, A = last.shape
        i = np.tile(np.arange(A), S)
        own = last.reshape(-1)
        other = last[:, self.counterpart].reshape(-1)
        p = self.clf.predict_proba(self.design(own, other, i))
        return p.reshape(S, A, N_ACTIONS)

    def predict(self, actions, origin, horizon):
        A = actions.shape[1]
        last = np.asarray(actions[origin - 1])
        out = np.empty((horizon, A, N_ACTIONS))
        out[0] = self.step_probs(last[None])[0]
        if horizon == 1:
            return out
        states = np.array(np.meshgrid(*[np.arange(N_ACTIONS)] * A, indexing="ij")).reshape(A, -1).T
        P = self.step_probs(states)  # (S, A, 3)
        # joint transition: product of the actors' probabilities of each next state
        T = np.ones((len(states), len(states)))
        for k in range(A):
            T *= P[:, k, states[:, k]]
        dist = np.prod(out[0][np.arange(A), states], axis=1)  # over joint states after month 1
        for h in range(1, horizon):
            out[h] = np.einsum("s,sak->ak", dist, P)
            dist = dist @ T
        return out


BASELINE_CLASSES = {cls.name: cls for cls in (Persistence, Frequencies, Markov, LaggedLogit)}


# ----------------------------------------------------------------------------------
# the model


@dataclass
class ModelForecaster:
    """The model as a forecaster: fitted at each origin, forecasting by its posterior predictive.

    Attributes:
        name: how outputs call it.
        params: the free parameters (dotted keys; role keys allowed).
        changes: fixed model parameters for the record's config (``model``, actors, …).
        draws: posterior draws the forecast averages over.
        paths: paths per draw for months beyond the first.
        posterior: ``laplace`` (the posterior's mode and the Gaussian around it: seconds
            per origin) or ``mcmc`` (emcee, stopped once converged: the exact posterior,
            minutes per origin where the record identifies little).
        restarts: optimiser restarts (for ``mcmc`` the sampler starts at the best MLE).
        steps: the sampler's budget of steps.
        seed: for the optimiser's restarts, the sampler and the paths.
    """

    name: str
    params: tuple[str, ...]
    changes: dict = field(default_factory=dict)
    priors: dict = field(default_factory=dict)
    draws: int = 200
    paths: int = 16
    posterior: str = "laplace"
    restarts: int = 4
    steps: int = 20000
    seed: int = 0
    fit_info: dict = field(default_factory=dict, repr=False)

    def model_for(self, record: Record):
        from sim.analysis.estimate import RecordModel

        return RecordModel(record, list(self.params), priors=self.priors, **_copy(self.changes))

    def fit_predict(self, record: Record, origin: int, horizon: int, rm=None) -> np.ndarray:
        """Fit on the record's first ``origin`` months and forecast the next ``horizon``."""
        from sim.analysis.estimate import fit_mle, laplace_posterior, sample_posterior

        rm = rm or self.model_for(record)
        train = np.zeros(record.n_months, dtype=bool)
        train[:origin] = True
        if self.posterior == "laplace":
            lap = laplace_posterior(rm, train, draws=self.draws, restarts=self.restarts,
                                    seed=self.seed + origin)  # fmt: skip
            draws = lap.draws
            self.fit_info[origin] = {"converged": True, "steps": 0,
                                     "mode": dict(zip(rm.keys, map(float, lap.mode)))}  # fmt: skip
        elif self.posterior == "mcmc":
            est = fit_mle(rm, train, restarts=self.restarts, seed=self.seed)
            post = sample_posterior(rm, train, est.values, steps=self.steps, seed=self.seed)
            rng = np.random.default_rng(self.seed + origin)
            pick = rng.choice(len(post.draws), size=min(self.draws, len(post.draws)), replace=False)
            draws = post.draws[pick]
            self.fit_info[origin] = {"converged": post.converged, "steps": int(post.chains.shape[1]),
                                     "mle": dict(zip(rm.keys, map(float, est.values)))}  # fmt: skip
        else:
            raise ValueError(f"posterior = {self.posterior!r}; allowed: laplace, mcmc")
        probs = rm.forecast(draws, origin, horizon, paths=self.paths, seed=self.seed)
        return probs.mean(axis=0)


def _copy(d):
    import copy

    return copy.deepcopy(d)


# ----------------------------------------------------------------------------------
# the protocol


def rolling_origin(
    record: Record,
    models: list[ModelForecaster],
    origins: list[int],
    horizons: tuple[int, ...] = (1,),
    baselines: tuple[str, ...] = BASELINES,
    progress: bool = False,
):
    """Fit every model and baseline at each origin (the number of months it may see) and
    score its forecasts of the months ``h`` ahead for each ``h`` in ``horizons``.

    Returns:
        A DataFrame, one row per origin × horizon × actor × model: ``origin`` (the last
        month seen), ``horizon``, ``period`` (the month forecast), ``actor``, ``model``,
        ``p_concede``, ``p_hedge``, ``p_escalate``, ``observed`` and the scores ``log``,
        ``brier``, ``rps``.
    """
    import pandas as pd

    H = max(horizons)
    cp = rec_counterpart(record)
    rows = []
    built = {m.name: m.model_for(record) for m in models}
    iterator = origins
    if progress:
        from tqdm import tqdm

        iterator = tqdm(origins, desc="origins", unit="origin")
    for origin in iterator:
        h_max = min(H, record.n_months - origin)
        if h_max < 1:
            continue
        forecasts = {}
        for name in baselines:
            b = BASELINE_CLASSES[name]().fit(record.actions, origin, cp)
            forecasts[name] = b.predict(record.actions, origin, h_max)
        for m in models:
            forecasts[m.name] = m.fit_predict(record, origin, h_max, built[m.name])
        for name, p in forecasts.items():
            for h in horizons:
                if h > h_max:
                    continue
                t = origin + h - 1  # the month forecast (0-based)
                obs = record.actions[t]
                scores = {s: fn(p[h - 1], obs) for s, fn in SCORE_FUNCTIONS.items()}
                for i, actor in enumerate(record.actors):
                    rows.append({
                        "origin": record.periods[origin - 1], "horizon": h,
                        "period": record.periods[t], "actor": actor, "model": name,
                        "p_concede": p[h - 1, i, 0], "p_hedge": p[h - 1, i, 1],
                        "p_escalate": p[h - 1, i, 2], "observed": int(obs[i]),
                        **{s: float(v[i]) for s, v in scores.items()},
                    })  # fmt: skip
    return pd.DataFrame(rows)


def skill(scores, model: str, baselines=BASELINES, reps: int = 2000, seed: int = 0):
    """The model against each baseline: per baseline × horizon × score, the mean per
    actor-month of the difference, signed so that positive means the model is better
    (log: model − baseline; Brier and RPS: baseline − model), with a 95% interval from
    the stationary block bootstrap over the months forecast (Politis & Romano 1994;
    arch's, with its automatic block length, Patton, Politis & White 2009).

    Returns:
        A DataFrame with columns ``baseline, horizon, score, mean_diff, lo, hi, n, block``.
    """
    import pandas as pd

    rows = []
    for h in sorted(scores["horizon"].unique()):
        at = scores[scores["horizon"] == h]
        mine = at[at["model"] == model].set_index(["period", "actor"])
        for b in baselines:
            theirs = at[at["model"] == b].set_index(["period", "actor"])
            joined = mine[list(SCORES)].join(theirs[list(SCORES)].add_suffix("_b"), how="inner")
            for s, higher in SCORES.items():
                d = joined[s] - joined[f"{s}_b"]
                if not higher:
                    d = -d
                by_month = d.groupby(level="period").mean().sort_index()
                counts = d.groupby(level="period").size().sort_index()
                lo, hi, block = block_bootstrap_ci(
                    by_month.to_numpy(), counts.to_numpy(), reps, seed
                )
                rows.append({"baseline": b, "horizon": int(h), "score": s,
                             "mean_diff": float(d.mean()), "lo": lo, "hi": hi, "n": int(len(d)),
                             "block": block})  # fmt: skip
    return pd.DataFrame(rows)


def block_bootstrap_ci(
    values: np.ndarray, weights: np.ndarray, reps: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """95% percentile interval of the weighted mean of a time series of month means
    (``weights``: actor-months per month), by arch's stationary bootstrap with the
    automatic expected block length; returns (lo, hi, block length)."""
    if len(values) < 3 or not np.all(np.isfinite(values)):
        m = float(np.average(values, weights=weights)) if len(values) else float("nan")
        return m, m, float("nan")
    from arch.bootstrap import StationaryBootstrap, optimal_block_length

    with np.errstate(divide="ignore", invalid="ignore"):  # a month series with no variance
        block = float(np.nan_to_num(optimal_block_length(values)["stationary"].iloc[0], nan=1.0))
    block = int(round(min(max(block, 1.0), len(values) / 2)))
    bs = StationaryBootstrap(block, values, weights, seed=np.random.default_rng(seed))
    means = np.array([np.average(v, weights=w) for (v, w), _ in bs.bootstrap(reps)])
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi), block


def held_out_scores(
    model, draws: np.ndarray, train: np.ndarray, test: np.ndarray
) -> tuple[dict, list[dict]]:
    """One-month-ahead scores on the ``test`` months of the fitted model (the posterior
    predictive over ``draws``), of the configured values (``configured``: for the shipped
    default, fitted on every month of every case, so not a forecast) and of the four
    baselines fitted on the ``train`` months (:mod:`sim.analysis.forecast`), with per
    actor-month rows for a CSV."""
    from sim.analysis.estimate import brier, scores

    rec = model.record
    _, p_fit, _ = model.replay(np.vstack([draws, model.default_values()[None]]))
    models = {"fitted": p_fit[:-1].mean(axis=0), "configured": p_fit[-1]}
    end = int(np.flatnonzero(train)[-1]) + 1
    cp = rec_counterpart(rec)
    for name, cls in BASELINE_CLASSES.items():
        b = cls().fit(rec.actions, end, cp)
        p = np.full((rec.n_months, len(rec.actors), 3), np.nan)
        for t in np.flatnonzero(test):
            p[t] = b.predict(rec.actions, t, 1)[0]
        models[name] = p
    out = {name: scores(p, rec.actions, test) for name, p in models.items()}
    rows = []
    for t in np.flatnonzero(test):
        for i, actor in enumerate(rec.actors):
            a = int(rec.actions[t, i])
            row = {
                "period": rec.periods[t],
                "actor": actor,
                "observed": ["concede", "hedge", "escalate"][a],
            }
            for name, p in models.items():
                row[f"logp_{name}"] = float(np.log(max(p[t, i, a], 1e-300)))
                row[f"brier_{name}"] = float(brier(p[t, i][None], np.array([a]))[0])
            rows.append(row)
    return out, rows
