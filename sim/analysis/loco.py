"""Leave one case out: fit on every case but one, predict the one left out.

The model is fitted on the other cases together (:class:`~sim.analysis.pooled.PooledModel`:
shared structure, role preferences pooled). The left-out case's actors start from the
pooled role estimates — its own preferences drawn around the role means with the pooling
spread ``tau`` — and the shared parameters keep their pooled posterior; then only the
case's **first k months** update them. Every later month is forecast one month ahead
(the state, beliefs and last moves follow the record, as in any one-step forecast) and
scored with the proper scores of :mod:`sim.analysis.forecast`.

The baselines are fitted on what the model was allowed to see: the other cases and the
left-out case's first k months, pooled **by role** (an actor of the left-out case is
forecast from the role it plays): persistence, frequencies, a Markov chain and the
lagged multinomial logit (with role effects in place of actor effects).

Example:
    >>> rows = role_streams([np.array([[0, 1], [0, 2], [1, 2]])], [("target", "principal")], [np.array([1, 0])])
    >>> sorted(rows)
    ['principal', 'target']
"""

from __future__ import annotations

import math

import numpy as np

from sim.analysis.forecast import N_ACTIONS, SCORE_FUNCTIONS, rec_counterpart
from sim.model.uncertainty import Prior

ROLES = ("target", "principal", "ally", "enforcer")


def role_streams(histories, roles, counterparts) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """role -> [(an actor's moves, its counterpart's moves)] over every history."""
    out: dict[str, list] = {}
    for acts, rl, cp in zip(histories, roles, counterparts):
        for i, role in enumerate(rl):
            out.setdefault(role, []).append((np.asarray(acts[:, i]), np.asarray(acts[:, cp[i]])))
    return out


class RoleBaselines:
    """The four baselines fitted on several histories pooled by role (see the module docstring)."""

    def __init__(self, histories, roles, counterparts):
        self.streams = role_streams(histories, roles, counterparts)
        self.freq, self.rho, self.trans = {}, {}, {}
        counts_all = []
        for role, pairs in self.streams.items():
            seq = np.concatenate([a for a, _ in pairs]) if pairs else np.zeros(0, int)
            c = np.bincount(seq, minlength=N_ACTIONS) if len(seq) else np.zeros(N_ACTIONS)
            self.freq[role] = (c + 1.0) / (c.sum() + N_ACTIONS)
            same = sum(int((a[1:] == a[:-1]).sum()) for a, _ in pairs)
            n = sum(max(0, len(a) - 1) for a, _ in pairs)
            self.rho[role] = (same + 1.0) / (n + 2.0)
            t = np.zeros((N_ACTIONS, N_ACTIONS))
            for a, _ in pairs:
                np.add.at(t, (a[:-1], a[1:]), 1.0)
            self.trans[role] = t
            counts_all.append(t)
        from scipy.optimize import minimize_scalar

        from sim.analysis.forecast import dirichlet_evidence

        stacked = np.stack(counts_all) if counts_all else np.zeros((1, 3, 3))
        res = minimize_scalar(lambda la: -dirichlet_evidence(stacked, math.exp(la)),
                              bounds=(math.log(0.01), math.log(100.0)), method="bounded")  # fmt: skip
        self.alpha = math.exp(res.x)
        self.logit = self._fit_logit()

    def _design(self, role_ix, own, other):
        X = np.zeros((len(own), len(ROLES) + 4))
        X[np.arange(len(own)), role_ix] = 1.0
        X[:, len(ROLES)] = own == 0
        X[:, len(ROLES) + 1] = own == 2
        X[:, len(ROLES) + 2] = other == 0
        X[:, len(ROLES) + 3] = other == 2
        return X

    def _fit_logit(self):
        from sklearn.linear_model import LogisticRegression

        Xs, ys = [], []
        for role, pairs in self.streams.items():
            r = ROLES.index(role)
            for a, b in pairs:
                if len(a) > 1:
                    Xs.append(self._design(np.full(len(a) - 1, r), a[:-1], b[:-1]))
                    ys.append(a[1:])
        # one light pseudo-row per action: every class is seen, even one a case never plays
        k = N_ACTIONS
        X = np.vstack(Xs + [self._design(np.zeros(k, int), np.ones(k, int), np.ones(k, int))])
        y = np.concatenate(ys + [np.arange(k)])
        w = np.concatenate([np.ones(len(y) - k), np.full(k, 0.01)])
        return LogisticRegression(C=1.0, max_iter=2000).fit(X, y, sample_weight=w)

    def predict(self, name: str, acts: np.ndarray, roles, counterpart, t: int) -> np.ndarray:
        """(actors, 3): baseline ``name``'s forecast of month t (0-based) from months < t."""
        A = acts.shape[1]
        out = np.empty((A, N_ACTIONS))
        for i in range(A):
            role = roles[i]
            last = acts[t - 1, i] if t > 0 else 1
            if name == "frequencies":
                out[i] = self.freq.get(role, np.full(3, 1 / 3))
            elif name == "persistence":
                rho = self.rho.get(role, 0.5)
                out[i] = (1 - rho) / 2
                out[i, last] = rho
            elif name == "markov":
                row = self.trans.get(role, np.zeros((3, 3)))[last] + self.alpha
                out[i] = row / row.sum()
            else:
                other = acts[t - 1, counterpart[i]] if t > 0 else 1
                X = self._design(np.array([ROLES.index(role)]), np.array([last]), np.array([other]))
                out[i] = self.logit.predict_proba(X)[0]
        return out


def leave_one_out(records, shared, by_case, k: int = 6, tau: float = 1.0, draws: int = 200,
                  restarts: int = 2, seed: int = 0, changes=None, progress: bool = False):  # fmt: skip
    """Leave each record out in turn; return the scores (DataFrame: ``case, period, actor,
    model, p_*, observed, log, brier, rps``) and per-case fit notes.

    Args:
        records: the loaded records (at least two).
        shared, by_case: the pooled model's keys (:class:`~sim.analysis.pooled.PooledModel`).
        k: months of the left-out case used to update its parameters (0: none).
        tau: the pooling spread.
    """
    import pandas as pd

    from sim.analysis.estimate import RecordModel, laplace_posterior
    from sim.analysis.pooled import PooledModel, applies

    rows, notes = [], {}
    iterator = records
    if progress:
        from tqdm import tqdm

        iterator = tqdm(records, desc="cases left out", unit="case")
    for left in iterator:
        others = [r for r in records if r.name != left.name]
        pm = PooledModel(others, shared, by_case, tau=tau, changes=changes)
        lap = laplace_posterior(pm, None, draws=draws, restarts=restarts, seed=seed)
        xs = pm.to_sampling(lap.draws)  # logit scale for utility terms
        roles = set(left.roles.values())
        mine_shared = [kk for kk in shared if applies(kk, roles)]
        mine_own = [kk for kk in by_case if applies(kk, roles)]
        priors = {}
        for key in mine_shared:  # (a key the other cases lack keeps its weak prior)
            if key in pm.keys:
                priors[key] = _prior_from_draws(key, xs[:, pm.keys.index(key)])
        for key in mine_own:
            if f"mean.{key}" in pm.keys:
                col = xs[:, pm.keys.index(f"mean.{key}")]
                priors[key] = Prior(
                    "normal", float(col.mean()), float(math.sqrt(tau**2 + col.var()))
                )
        rm = RecordModel(left, mine_shared + mine_own, priors=priors, **dict(changes or {}))
        if k > 0:
            train = np.zeros(left.n_months, dtype=bool)
            train[:k] = True
            post = laplace_posterior(rm, train, draws=draws, restarts=restarts, seed=seed)
            values = post.draws
        else:  # nothing of the case: draws of the pooled posterior and the role spread
            rng = np.random.default_rng(seed)
            values = rm.to_config(np.column_stack(
                [_draw(p.prior, rng, draws) for p in rm.free]))  # fmt: skip
        _, probs, _ = rm.replay(values)
        p_model = probs.mean(axis=0)  # (months, actors, 3): one step ahead, posterior predictive
        cp = rec_counterpart(left)
        base = RoleBaselines(
            [o.actions for o in others] + ([left.actions[:k]] if k > 1 else []),
            [tuple(o.roles[a] for a in o.actors) for o in others]
            + ([tuple(left.roles[a] for a in left.actors)] if k > 1 else []),
            [rec_counterpart(o) for o in others] + ([cp] if k > 1 else []),
        )  # fmt: skip
        lroles = [left.roles[a] for a in left.actors]
        for t in range(max(k, 1), left.n_months):
            obs = left.actions[t]
            forecasts = {"model": p_model[t]}
            for b in ("persistence", "frequencies", "markov", "lagged_logit"):
                forecasts[b] = base.predict(b, left.actions, lroles, cp, t)
            for name, p in forecasts.items():
                sc = {s: fn(p, obs) for s, fn in SCORE_FUNCTIONS.items()}
                for i, actor in enumerate(left.actors):
                    rows.append({"case": left.name, "period": left.periods[t], "actor": actor,
                                 "model": name, "p_concede": p[i, 0], "p_hedge": p[i, 1],
                                 "p_escalate": p[i, 2], "observed": int(obs[i]),
                                 **{s: float(v[i]) for s, v in sc.items()}})  # fmt: skip
        notes[left.name] = {
            "pooled_on": [o.name for o in others],
            "pooled_mode": dict(zip(pm.keys, map(float, lap.mode))),
            "k": k,
        }
    return pd.DataFrame(rows), notes


def _prior_from_draws(key: str, col: np.ndarray) -> Prior:
    """A prior summarising pooled posterior draws: log-normal for rationality, else normal."""
    if key == "rationality":
        lc = np.log(np.maximum(col, 1e-12))
        return Prior("lognormal", float(lc.mean()), float(max(lc.std(), 1e-3)))
    return Prior("normal", float(col.mean()), float(max(col.std(), 1e-3)))


def _draw(prior: Prior, rng, n: int) -> np.ndarray:
    return prior.ppf(rng.uniform(size=n))


def loco_table(scores, reps: int = 2000, seed: int = 0):
    """Per case and baseline: the model's mean score per actor-month minus the baseline's
    (+ = model better), with a 95% block-bootstrap interval over the months."""
    import pandas as pd

    from sim.analysis.forecast import BASELINES, skill

    parts = []
    for case, grp in scores.groupby("case", sort=False):
        t = skill(grp.assign(horizon=1), "model", BASELINES, reps=reps, seed=seed)
        means = grp.groupby("model")[["log", "brier", "rps"]].mean()
        t.insert(0, "case", case)
        t["model_mean"] = [means.loc["model", s] for s in t["score"]]
        t["baseline_mean"] = [means.loc[b, s] for b, s in zip(t["baseline"], t["score"])]
        parts.append(t)
    return pd.concat(parts, ignore_index=True)
