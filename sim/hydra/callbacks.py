"""Hydra callbacks named in ``sim/configs/config.yaml``: light to import, they load the rest when used.

- :class:`ValidateConfig` refuses a bad config with one line before Hydra writes anything
  (the ``stalemate`` command checks it even earlier, :mod:`sim.hydra.refuse`; this
  catches configs composed another way);
- :class:`CollectCallback` locks, merges and reports a sweep made with Hydra's *basic*
  sweeper (the ``stalemate`` sweeper does all that itself, inside its ``sweep()``).

Hydra turns an exception raised in a callback into a warning and carries on, so
these callbacks end the process themselves (``SystemExit``) when they must.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.hydra.schema import to_app_config

if TYPE_CHECKING:  # pragma: no cover - for type checkers only (imported when used)
    from sim.hydra.lock import DirLock


def _basic_sweep(config: DictConfig) -> bool:
    return "StalemateSweeper" not in str(config.hydra.sweeper.get("_target_", ""))


class ValidateConfig(Callback):
    """Reject a bad config with one clear line before Hydra writes anything."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        from sim.hydra.refuse import explain
        from sim.model.validation import refusal

        try:
            to_app_config(config)  # validated once: a config checked before is not checked again
        except Exception as err:  # noqa: BLE001 - Hydra would only warn and run on
            print(refusal("stalemate", explain(err)), file=sys.stderr)
            raise SystemExit(2) from None


class CollectCallback(Callback):
    """For a basic-sweeper multirun: hold the sweep directory's lock while it runs, then
    merge the jobs, write the summary and figures, and exit 1 if points are missing."""

    def __init__(self) -> None:
        self.lock: DirLock | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        if not _basic_sweep(config):
            return  # the stalemate sweeper locks, merges and sets the exit code itself
        from sim.hydra.lock import DirLock, LockBusy

        sweep_dir = Path(str(config.hydra.sweep.dir))
        if (sweep_dir / "sweep.json").exists():
            print(
                f"stalemate: hydra.sweep.dir = {sweep_dir} holds a sweep of the stalemate "
                "sweeper; complete it with its own command, or choose another directory",
                file=sys.stderr,
            )
            raise SystemExit(2)
        try:
            self.lock = lock = DirLock(sweep_dir, "sweep").acquire()
        except (LockBusy, OSError) as err:
            print(f"stalemate: {err}", file=sys.stderr)
            raise SystemExit(2) from None
        if lock.stale_note():
            print(f"stalemate: {lock.stale_note()}", file=sys.stderr)

    def on_multirun_end(self, config, **kwargs) -> None:
        if not _basic_sweep(config):
            return
        from sim.hydra.sweep import finish

        try:
            finish(Path(str(config.hydra.sweep.dir)))  # exits 1 if anything is missing
        finally:
            if self.lock is not None:
                self.lock.release()
