"""The 2018 replay, and what partial relief in August 2018 would have changed.

Runs the ``replay_2018`` scenario (one round per month, April 2018 to February
2019, the brief's events scheduled in their months) over many seeds with the
batch engine, then branches two counterfactuals from the start of August 2018
with common random numbers (every run shares its factual past up to July and the
same random numbers afterwards; see :func:`sim.analysis.replay.branch`):

- **relief offered**: instead of nothing, partial sanctions relief (``--relief``,
  default 0.5) is put on the table in August and stays on offer — still under
  "denuclearization first", so detected hedging snaps it back;
- **relief + assurances, phased**: the same offer with firmer security
  assurances (+0.2, to 0.6) under "action for action".

Outcome shares (95% Wilson intervals) are reported at the end of the calendar
and, because no agreement can be reached in eleven months, also for talks that
go on under the same rules to ``--horizon`` rounds. Writes

- ``results/replay_2018/replay.png``          fan charts of the factual replay, dates and events
- ``results/replay_2018/counterfactual.png``  factual vs counterfactuals, side by side
- ``results/replay_2018/summary.csv``         outcome shares and metrics with 95% CIs per history
- ``results/replay_2018/trajectories.parquet`` factual and counterfactual trajectories

Usage::

    python experiments/replay_2018.py                      # 500 seeds
    python experiments/replay_2018.py --seeds 2000 --at 2018-09 --relief 0.3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import sim
import sim.model.actors
import sim.model.decisions
import sim.model.events
import sim.report.plots
from sim.analysis.replay import (
    branch,
    month_round,
    replay_config,
    round_month,
    round_to_date,
    with_events,
)
from sim.engines.tables import OUTCOME_ORDER
from sim.report.io import save_figure, write_parquet, write_text
from sim.report.summary import outcome_shares, share_ci

HISTORY_COLORS = {
    "factual": "#1d3557",
    "relief offered": "#e76f51",
    "relief + assurances, phased": "#2a9d8f",
}


def counterfactuals(base, at_round: int, relief: float) -> dict:
    """The counterfactual configs, by name (each branches from ``at_round``)."""
    offer = {
        "round": at_round,
        "kind": "relief_offer",
        "label": f"Counterfactual: partial relief ({relief:g}) offered",
        "shift": {"relief": relief},
    }
    firm = {
        **offer,
        "label": "Counterfactual: relief + firmer assurances, phased",
        "shift": {"relief": relief, "assurance": 0.2},
    }
    return {
        "relief offered": with_events(base, offer, relief=relief),
        "relief + assurances, phased": with_events(
            base,
            firm,
            relief=relief,
            assurance=min(1.0, base.assurance + 0.2),
            regime="action_for_action",
        ),
    }


def _mean_ci(x) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float)
    m = x.mean()
    h = 1.959963984540054 * x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.nan
    return m, m - h, m + h


def summarize(histories: dict[str, pd.DataFrame], horizon_label: str) -> pd.DataFrame:
    """One row per history: outcome shares and mean metrics, each with a 95% CI."""
    rows = []
    for name, runs in histories.items():
        row = {
            "history": name,
            "horizon": horizon_label,
            "rounds": int(runs["rounds_played"].max()),
        }
        row.update(outcome_shares(runs).iloc[0].to_dict())
        k = int(runs["outcome"].isin(["stalemate", "hedged_stalemate"]).sum())
        row["any_stalemate"], row["any_stalemate_lo"], row["any_stalemate_hi"] = share_ci(
            k, len(runs)
        )
        for col in (
            "concede_share_DPRK",
            "hedge_share_DPRK",
            "concede_share_USA",
            "final_undeclared",
            "final_denuclearization",
            "final_tension",
        ):
            row[col], row[f"{col}_lo"], row[f"{col}_hi"] = _mean_ci(runs[col])
        rows.append(row)
    return pd.DataFrame(rows)


def _dates(rounds, when="end"):
    return [round_to_date(int(r), when) for r in rounds]


def _fan(ax, traj, var, cfg, color, label=None):
    m = sim.report.plots.state_matrix(traj, var)
    if var == "felt_relief":
        x0 = sim.model.decisions.felt_relief(cfg.relief, cfg.enforcement)
    else:
        x0 = getattr(cfg, var)
    m = np.column_stack([np.full(m.shape[0], x0), m])  # round 0: the initial state
    sim.report.plots.fan(ax, _dates(np.arange(0, m.shape[1])), m, color, label, alpha=0.18)


def _event_markers(ax, cfg, labels: bool, at_round: int | None = None):
    by_round: dict[int, list[str]] = {}
    for ev in cfg.events:
        by_round.setdefault(ev.round, []).append(sim.model.events.describe(ev))
    for r, names in by_round.items():
        d = round_to_date(r, "start")
        cf = (
            at_round is not None
            and r >= at_round
            and any(n.startswith("Counterfactual") for n in names)
        )
        ax.axvline(d, color="#c1121f" if cf else "#6c757d", ls="--", lw=0.9, alpha=0.8)
        if labels:
            ax.text(
                d,
                1.0,
                " " + "\n ".join(names),
                rotation=90,
                va="top",
                ha="left",
                fontsize=7,
                transform=ax.get_xaxis_transform(),
                color="#343a40",
            )


def _date_axis(ax, rounds):
    import matplotlib.dates as mdates

    ax.set_xlim(round_to_date(0, "end"), round_to_date(rounds, "end"))
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, 2)))
    ax.xaxis.set_minor_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax.grid(alpha=0.3)


def plot_replay(traj: pd.DataFrame, cfg, n_runs: int):
    """The factual replay: state fan charts and each actor's action shares, on dates."""
    import matplotlib.pyplot as plt

    actors = list(traj["actor"].cat.categories)
    fig, axes = plt.subplots(3, 4, figsize=(17, 11), constrained_layout=True)
    panels = [
        "tension",
        "assurance",
        "relief",
        "felt_relief",
        "undeclared",
        "denuclearization",
        "trust_DPRK",
        "trust_USA",
    ]
    for ax, var in zip(axes.flat[:8], panels):
        if var.startswith("trust_"):
            actor = var.split("_", 1)[1]
            sub = traj[traj["actor"] == actor].copy()
            sub["actor"] = sub["actor"].cat.set_categories([actor])
            sub["trust"] = sub["trust_in_counterpart"]
            _fan(ax, sub, "trust", _TrustStart(cfg, actor), "#1d3557")
            other = "USA" if actor == "DPRK" else "DPRK"
            ax.set_title(f"{actor}'s trust in the {other}", fontsize=10)
        else:
            _fan(ax, traj, var, cfg, "#1d3557")
            ax.set_title(sim.report.plots.STATE_LABELS[var], fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        _event_markers(ax, cfg, labels=var in ("tension", "undeclared"))
        _date_axis(ax, cfg.rounds)
    shares = sim.report.plots.action_shares(traj)
    for ax, actor in zip(axes.flat[8:], actors):
        s = shares.loc[actor].reindex(columns=list(sim.model.actors.ACTION_NAMES))
        starts = [round_to_date(r, "start") for r in s.index]
        widths = [(round_to_date(r, "end") - d).days for r, d in zip(s.index, starts)]
        bottom = np.zeros(len(s))
        for a in sim.model.actors.ACTION_NAMES:  # one bar per month, stacked by action
            ax.bar(
                starts,
                s[a].to_numpy(),
                widths,
                bottom=bottom,
                align="edge",
                label=a,
                color=sim.report.plots.ACTION_COLORS[a],
                alpha=0.9,
                edgecolor="white",
                lw=0.5,
            )
            bottom += s[a].to_numpy()
        ax.set_ylim(0, 1)
        ax.set_title(f"{actor}: share of runs playing each action", fontsize=10)
        _event_markers(ax, cfg, labels=False)
        _date_axis(ax, cfg.rounds)
    axes.flat[8].legend(loc="lower left", fontsize=8, frameon=True)
    axes.flat[0].plot([], [], color="#1d3557", lw=2, label="median")
    axes.flat[0].fill_between([], [], [], color="#1d3557", alpha=0.18, label="10–90% of runs")
    axes.flat[0].legend(loc="lower left", fontsize=8, frameon=False)
    fig.suptitle(
        f"The 2018 replay, monthly from April 2018 — {n_runs} runs "
        "(dashed lines: scheduled events)",
        fontsize=13,
        fontweight="bold",
    )
    return fig


class _TrustStart:
    """Stands in for a config in :func:`_fan`: the initial trust of one actor."""

    def __init__(self, cfg, actor):
        self.trust = cfg.actors[actor].trust


def plot_counterfactual(trajs: dict, cfgs: dict, summary: pd.DataFrame, at_round: int, n_runs: int):
    """Factual and counterfactual histories side by side: state fans, DPRK actions, outcomes."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(18, 9), layout="constrained")
    base = cfgs["factual"]
    for ax, var in zip(axes[0], ("relief", "assurance", "tension", "undeclared")):
        for name, traj in trajs.items():
            _fan(ax, traj, var, base, HISTORY_COLORS[name], label=name)
        ax.axvspan(
            round_to_date(at_round, "start"),
            round_to_date(base.rounds, "end"),
            color="#ffe8d6",
            alpha=0.5,
            lw=0,
        )
        _event_markers(ax, base, labels=var == "relief")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(sim.report.plots.STATE_LABELS[var] + " (median, 10–90%)", fontsize=10)
        _date_axis(ax, base.rounds)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles,
        [
            f"{lab} ({'the replay' if lab == 'factual' else 'from ' + round_month(at_round)})"
            for lab in labels
        ],
        loc="outside lower center",
        ncol=len(labels),
        fontsize=10,
        frameon=False,
    )
    for ax, action in zip(axes[1, :2], ("concede", "hedge")):
        for name, traj in trajs.items():
            s = sim.report.plots.action_shares(traj).loc["DPRK"][action]
            d = [round_to_date(r, "start") + pd.Timedelta(days=14) for r in s.index]
            ax.plot(d, s.to_numpy(), marker="o", ms=3, color=HISTORY_COLORS[name], lw=2, label=name)
        ax.axvspan(
            round_to_date(at_round, "start"),
            round_to_date(base.rounds, "end"),
            color="#ffe8d6",
            alpha=0.5,
            lw=0,
        )
        _event_markers(ax, base, labels=False)
        ax.set_ylim(0, 1)
        ax.set_title(f"DPRK: share of runs that {action}", fontsize=10)
        _date_axis(ax, base.rounds)
    for ax, horizon in zip(axes[1, 2:], summary["horizon"].unique()):
        sub = summary[summary["horizon"] == horizon]
        width = 0.8 / len(sub)
        xs = np.arange(len(OUTCOME_ORDER))
        for k, (_, row) in enumerate(sub.iterrows()):
            v = np.array([row[o] for o in OUTCOME_ORDER])
            err = np.array(
                [
                    [row[o] - row[o + "_lo"] for o in OUTCOME_ORDER],
                    [row[o + "_hi"] - row[o] for o in OUTCOME_ORDER],
                ]
            )
            ax.bar(
                xs + (k - (len(sub) - 1) / 2) * width,
                v,
                width,
                yerr=err,
                capsize=2,
                color=HISTORY_COLORS[row["history"]],
                label=row["history"],
            )
        ax.set_xticks(xs, [o.replace("_", "\n") for o in OUTCOME_ORDER])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("share of runs (95% CI)")
        ax.set_title(f"Outcomes {horizon}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(
        f"Branching from {pd.Period(round_month(at_round)).strftime('%B %Y')}: "
        f"factual vs counterfactual, same seeds and random numbers — {n_runs} runs",
        fontsize=13,
        fontweight="bold",
    )
    return fig


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=500, help="runs per history (default 500)")
    ap.add_argument(
        "--at", default="2018-08", help="month the counterfactuals branch from (default 2018-08)"
    )
    ap.add_argument(
        "--relief", type=float, default=0.5, help="partial relief offered (default 0.5)"
    )
    ap.add_argument(
        "--horizon",
        type=int,
        default=60,
        help="rounds (months) for the 'talks go on' outcomes (default 60, to March 2023)",
    )
    ap.add_argument("--out", default="results/replay_2018")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    base = replay_config()
    at = month_round(args.at)
    seeds = list(range(args.seeds))
    print(
        f"2018 replay: {base.rounds} monthly rounds from {round_month(1)} to {round_month(base.rounds)}, "
        f"{args.seeds} seeds; counterfactuals from {round_month(at)} (round {at})"
    )
    trajs, cfgs, runs = {"factual": None}, {"factual": base}, {}
    for name, alt in counterfactuals(base, at, args.relief).items():
        b = branch(base, alt, seeds, at)
        trajs["factual"], runs["factual"] = b.factual.trajectories, b.factual.runs
        trajs[name], runs[name], cfgs[name] = (
            b.counterfactual.trajectories,
            b.counterfactual.runs,
            alt,
        )
    summary = [summarize(runs, f"at {round_month(base.rounds)} (round {base.rounds})")]
    long_base = replay_config(rounds=args.horizon)
    long_runs = {}
    for name, alt in counterfactuals(long_base, at, args.relief).items():
        b = branch(long_base, alt, seeds, at, record=False)
        long_runs["factual"], long_runs[name] = b.factual.runs, b.counterfactual.runs
    summary.append(
        summarize(
            long_runs, f"if talks go on to {round_month(args.horizon)} (round {args.horizon})"
        )
    )
    summary = pd.concat(summary, ignore_index=True)
    elapsed = time.perf_counter() - t0

    out = Path(args.out)
    meta = {"study": "replay_2018", **vars(args), "version": sim.__version__}
    traj_all = pd.concat([t.assign(history=n) for n, t in trajs.items()], ignore_index=True)
    traj_all["month"] = [round_month(r) for r in traj_all["round"]]
    write_parquet(traj_all, out / "trajectories.parquet", meta)
    write_text(summary.to_csv(index=False), out / "summary.csv")
    save_figure(plot_replay(trajs["factual"], base, args.seeds), out / "replay.png", dpi=110)
    save_figure(
        plot_counterfactual(trajs, cfgs, summary, at, args.seeds),
        out / "counterfactual.png",
        dpi=110,
    )

    print(f"Done in {elapsed:.1f} s. Outcomes (share [95% CI]):")
    for _, row in summary.iterrows():
        print(
            f"  {row['horizon']:<40} {row['history']:<28} "
            + "  ".join(
                f"{o.replace('_', ' ')} {row[o]:5.1%} [{row[o + '_lo']:.1%}–{row[o + '_hi']:.1%}]"
                for o in ("agreement", "hedged_stalemate", "stalemate", "breakdown")
            )
        )
    print("DPRK share of rounds conceding (mean [95% CI]):")
    for _, row in summary.iterrows():
        print(
            f"  {row['horizon']:<40} {row['history']:<28} {row['concede_share_DPRK']:.3f} "
            f"[{row['concede_share_DPRK_lo']:.3f}–{row['concede_share_DPRK_hi']:.3f}]"
        )
    print(f"Wrote {out}/replay.png, counterfactual.png, summary.csv, trajectories.parquet")


if __name__ == "__main__":
    main()
