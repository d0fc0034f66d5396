"""Calibrate the model to the packaged 2018–2019 record and ship the result with the package.

Runs ``stalemate-fit`` on ``us_dprk_2018_2019`` (train January 2018 – February 2019,
test March – December 2019), then copies

- ``posterior.parquet`` -> ``sim/data/posteriors/us_dprk_2018_2019.parquet``
  (what ``uncertainty=posterior`` draws from),
- ``calibrated_actors.yaml`` -> ``sim/configs/actors/calibrated_2018.yaml``
  (``actors=calibrated_2018``: the posterior means),
- ``record_fit.png`` -> ``results/figures/record_fit.png`` (the README's figure),
- ``fit.json`` -> ``results/figures/fit_us_dprk_2018_2019.json`` (the numbers docs quote).

Usage::

    python experiments/calibrate.py            # ~2 minutes
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    exe = str(Path(sys.executable).with_name("stalemate-fit"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fit"
        subprocess.run([exe, "record=us_dprk_2018_2019", "train=2018-01:2019-02", "test=2019-03:2019-12",
                        f"hydra.run.dir={out}", *sys.argv[1:]], check=True)  # fmt: skip
        copies = {
            out / "posterior.parquet": ROOT / "sim/data/posteriors/us_dprk_2018_2019.parquet",
            out / "calibrated_actors.yaml": ROOT / "sim/configs/actors/calibrated_2018.yaml",
            out / "record_fit.png": ROOT / "results/figures/record_fit.png",
            out / "fit.json": ROOT / "results/figures/fit_us_dprk_2018_2019.json",
        }
        for src, dst in copies.items():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            print(f"wrote {dst.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
