"""Reproducible sweep studies, one command each, through Hydra's multirun.

    python experiments/sweep_study.py stalemate_map   # (a) assurance x relief, 21 x 21 x 100 seeds
    python experiments/sweep_study.py verification    # (b) detect_prob x the USA's response to a detection
    python experiments/sweep_study.py sequencing      # (c) the three sequencing regimes compared
    python experiments/sweep_study.py ripeness        # (d) cost of stalemate x assurance

Each runs ``stalemate -m +sweep=<study>`` (the presets are in ``configs/sweep/``)
into ``results/<study>/`` — one ``runs.parquet``, ``summary.csv`` and the
figures — and prints the headline numbers. Extra arguments are passed to
``stalemate`` as Hydra overrides (e.g. ``seeds=20 hydra/launcher=joblib``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

STUDIES = ("stalemate_map", "verification", "sequencing", "ripeness", "demo_map")


def run_study(name: str, extra: list[str], out: Path | None = None) -> Path:
    """Run a preset sweep into ``out`` (default ``results/<name>``, replaced); return the directory."""
    out = out or Path("results") / name
    if out.exists():
        shutil.rmtree(out)
    exe = Path(sys.executable).with_name("stalemate")
    cmd = [str(exe), "-m", f"+sweep={name}", f"hydra.sweep.dir={out}", *extra]
    print("$ stalemate", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True)
    return out


def headline(name: str, out: Path) -> str:
    """The numbers worth quoting from a study's summary.csv."""
    s = pd.read_csv(out / "summary.csv")
    s["any_stalemate"] = s["stalemate"] + s["hedged_stalemate"]
    fmt = "{:.0%}".format

    def row(r, keys):
        what = ", ".join(f"{k} {r[k]:g}" if not isinstance(r[k], str) else f"{r[k]}" for k in keys)
        return (
            f"  {what}: agreement {fmt(r['agreement'])} [{fmt(r['agreement_lo'])}–{fmt(r['agreement_hi'])}], "
            f"stalemate {fmt(r['any_stalemate'])}, breakdown {fmt(r['breakdown'])}"
        )

    if name in ("stalemate_map", "demo_map", "ripeness"):
        x, y = ("assurance", "relief") if name != "ripeness" else ("stalemate_cost", "assurance")
        corners = s[s[x].isin([s[x].min(), s[x].max()]) & s[y].isin([s[y].min(), s[y].max()])]
        return "Corners:\n" + "\n".join(row(r, [x, y]) for _, r in corners.iterrows())
    if name == "verification":
        pick = s[s["detect_prob"].isin([0.1, 0.9]) & s["detection_response"].isin([0, 3])]
        return "Detection x response:\n" + "\n".join(
            row(r, ["detect_prob", "detection_response"])
            + f", DPRK hedges {r['mean_hedge_share_DPRK']:.0%} of rounds"
            for _, r in pick.iterrows()
        )
    return "\n".join(row(r, ["regime"]) for _, r in s.iterrows())


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in STUDIES:
        sys.exit(f"usage: sweep_study.py {{{'|'.join(STUDIES)}}} [hydra overrides…]")
    name, extra = argv[0], argv[1:]
    t0 = time.perf_counter()
    out = run_study(name, extra)
    print(
        f"\n{name}: launch, jobs, collect and plot took {time.perf_counter() - t0:.1f} s -> {out}/"
    )
    print(headline(name, out))


if __name__ == "__main__":
    main()
