"""Decision rules as plug-ins: a rule in another package registers without touching ours.

A tiny third-party package, ``stalemate_every_nth``, is built here as a wheel (a zip
with its ``dist-info``, as any build backend would write it, so no backend or network
is needed), installed by pip into a folder of its own (``pip install --target``), and
put on the path of a fresh interpreter. Its rule, ``every_nth`` (concede every n-th
round, hedge otherwise), registers through the ``stalemate.policies`` entry-point
group and declares one parameter, ``nth``, which each actor sets by
``actors.<actor>.rule.nth`` and which reaches the rule as ``ctx.params[0]``.

It runs in a subprocess that compiles the engine with the rule in its dispatch (the
compiled code's hash covers the plug-in's source, so its cache is apart from the
package's own): a minute or so the first time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import pytest

pytestmark = pytest.mark.slow

RULE = textwrap.dedent(
    '''
    """A third-party rule: concede every n-th round, hedge otherwise."""

    from sim.model.jit import kernel
    from sim.model.names import Action
    from sim.model.policies import Policy


    @kernel(inline="always")
    def _probabilities(ctx, utility, out):
        move = Action.CONCEDE if ctx.round % int(ctx.params[0]) == 0 else Action.HEDGE
        for a in range(out.shape[0]):
            out[a] = 1.0 if a == move else 0.0


    class EveryNth(Policy):
        """Every n-th: concede in rounds n, 2n, …; hedge in the others."""

        name = "every_nth"
        classifier = {"stochastic": False, "memory_depth": 0, "uses_utility": False}
        parameters = {"nth": 3}
        probabilities = _probabilities
    '''
)

DIST = "stalemate_every_nth-0.1.dist-info"
FILES = {
    "stalemate_every_nth.py": RULE,
    f"{DIST}/METADATA": "Metadata-Version: 2.1\nName: stalemate-every-nth\nVersion: 0.1\n",
    f"{DIST}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    f"{DIST}/entry_points.txt": (
        "[stalemate.policies]\nevery_nth = stalemate_every_nth:EveryNth\n"
    ),
}

CHECK = textwrap.dedent(
    """
    import json

    import numpy as np

    from sim import make_config, run_batch, run_mesa
    from sim.model.policies import BUILTIN, POLICIES, policy_class

    out = {"policies": list(POLICIES), "builtin": list(BUILTIN),
           "doc": policy_class("every_nth").describe()}
    actors = {"USA": {"policy": "every_nth", "rule": {"nth": 5}},
              "ROK": {"policy": "every_nth"}}  # the rule's default: every 3rd round
    cfg = make_config(rounds=40, actors=actors)
    b = run_batch([cfg] * 30, list(range(30)), progress=False)
    m = run_mesa([cfg] * 4, list(range(4)), progress=False)
    acts = b.actions
    for name in ("USA", "ROK"):
        mine = acts[acts.actor == name]
        out[name] = sorted(set(mine[mine.action == "concede"]["round"] % (5 if name == "USA" else 3)))
        out[name + "_rounds"] = int(mine["round"].max())
    out["mesa_same"] = bool(
        m.actions.reset_index(drop=True).equals(acts[acts.run_id < 4].reset_index(drop=True))
    )
    try:
        make_config(actors={"USA": {"policy": "every_nth", "rule": {"nht": 5}}})
    except Exception as e:
        out["refused"] = str(e)
    print(json.dumps(out))
    """
)


def _wheel(path) -> None:
    """Write the plug-in's wheel, with its RECORD of hashes, to ``path``."""
    record = []
    with zipfile.ZipFile(path, "w") as z:
        for name, text in FILES.items():
            data = text.encode()
            z.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{name},sha256={digest.decode()},{len(data)}")
        record.append(f"{DIST}/RECORD,,")
        z.writestr(f"{DIST}/RECORD", "\n".join(record) + "\n")


def test_a_rule_from_another_package_registers_and_runs(tmp_path):
    """``every_nth`` installed by pip outside the package: it is a registered policy
    after the package's own (whose codes do not move), configs name it and set its
    parameter per actor (the USA every 5th round, the ROK at the default 3rd), the batch
    engine and the Mesa model play it identically, and an undeclared parameter is
    refused in one line."""
    wheel = tmp_path / "stalemate_every_nth-0.1-py3-none-any.whl"
    _wheel(wheel)
    target = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    assert (target / DIST / "entry_points.txt").exists()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, timeout=1800
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["policies"] == [*got["builtin"], "every_nth"]
    assert got["doc"].startswith("Every n-th")
    assert got["USA"] == [0] and got["ROK"] == [0], got  # concessions only in rounds n, 2n, …
    assert got["USA_rounds"] >= 5 and got["mesa_same"], got
    assert "rule" in got["refused"] and "nht" in got["refused"] and "\n" not in got["refused"]


def test_without_plugins_the_codes_are_the_packages_own():
    """With nothing installed in the group, the policies are the package's files, logit first."""
    from sim.model.policies import BUILTIN, PLUGINS, POLICIES

    if PLUGINS:
        pytest.skip("a plug-in rule is installed in this environment")
    assert POLICIES == BUILTIN and POLICIES[0] == "logit"
