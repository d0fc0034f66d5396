"""The package's version: from git tags in a checkout, from the installed metadata otherwise.

Releases are git tags ``vX.Y.Z``. The build (versioningit, configured in the
``[tool.versioningit]`` table of ``pyproject.toml``) turns ``git describe`` into the
version: ``0.2.0`` on the tag ``v0.2.0``, ``0.3.0.dev5+g1a2b3c4`` five commits later,
``….d20261207`` with uncommitted changes, and ``0.2.0.devN+g<hash>`` in a clone that
has no tags (not fetched, or shallow), which counts from the first commit.

An editable install records its version once, when it is installed, and a run's
tables carry the version: so in a git checkout :func:`version` asks git itself, by
the same rules read from the same table (:func:`from_git`; ``tests/test_version.py``
checks it says what versioningit says). An installed wheel reads its metadata. A
copy with neither says ``0+unknown``.

Example:
    >>> version().split(".")[0].isdigit()  # e.g. 0.2.0, or 0.3.0.dev5+g1a2b3c4
    True
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path

#: The distribution's name on the package index (``pip install stalemate-sim``).
DIST = "stalemate-sim"
#: The version when neither git nor an installed distribution can say.
UNKNOWN = "0+unknown"
#: The checkout this package sits in, if it sits in one.
ROOT = Path(__file__).resolve().parent.parent


def version(root: Path = ROOT) -> str:
    """The version of the package: from git when ``root`` is our git checkout, else from
    the installed distribution's metadata, else :data:`UNKNOWN`."""
    if (root / ".git").exists():
        found = from_git(root)
        if found:
            return found
    from importlib import metadata  # here: its import alone takes ~50 ms

    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:
        return UNKNOWN


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},  # a read must not take the index lock
    ).stdout.strip()


def _settings(root: Path) -> dict | None:
    """``[tool.versioningit]`` of ``root/pyproject.toml`` if that is this project's."""
    import tomllib

    try:
        meta = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if meta.get("project", {}).get("name") != DIST:
        return None
    return meta.get("tool", {}).get("versioningit")


def next_release(base: str) -> str:
    """versioningit's ``minor-release``: the release a pre- or development release leads
    to, or the next minor release after a release.

    Example:
        >>> next_release("0.2.0.dev0"), next_release("0.2.0"), next_release("1.4.2.post1")
        ('0.2.0', '0.3.0', '1.5.0')
        >>> next_release("1!2.0rc1")
        '1!2.0'
    """
    m = re.fullmatch(r"(?:(\d+)!)?(\d+(?:\.\d+)*)(.*)", base)
    if m is None:
        raise ValueError(f"{base!r} is not a version")
    epoch = f"{m[1]}!" if m[1] else ""
    if re.match(r"[-_.]?(a|b|c|rc|alpha|beta|pre|preview|dev)", m[3].lower()):
        return epoch + m[2]
    parts = [*map(int, m[2].split(".")), 0, 0]
    return f"{epoch}{parts[0]}.{parts[1] + 1}.0"


def _build_date() -> dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.now(tz=dt.UTC)


def from_git(root: Path = ROOT) -> str | None:
    """The version versioningit would build from the checkout at ``root``, or None
    when git or the settings cannot say (no git, not our checkout, an unsupported
    setting)."""
    cfg = _settings(root)
    if not cfg:
        return None
    vcs, fmt = cfg.get("vcs", {}), cfg.get("format", {})
    if vcs.get("method", "git") != "git" or cfg.get("next-version", {}).get("method") != (
        "minor-release"
    ):
        return None
    match = [f"--match={m}" for m in vcs.get("match", [])]
    try:
        described = _git(root, "describe", "--tags", "--long", "--dirty", "--always", *match)
        dirty = described.endswith("-dirty")
        described = described.removesuffix("-dirty")
        m = re.fullmatch(r"(.+)-(\d+)-g([0-9a-f]+)", described)
        if m:
            tag, distance, rev = m[1], int(m[2]), m[3]
        elif "default-tag" in vcs:  # no tag: as though the first commit had the default one
            tag, rev = vcs["default-tag"], described
            distance = int(_git(root, "rev-list", "--count", "HEAD")) - 1
        else:
            return None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    base = tag.lstrip("v")
    state = ("distance-dirty" if dirty else "distance") if distance else ("dirty" if dirty else "")
    if not state:
        return base
    fields = {
        "base_version": base,
        "next_version": next_release(base),
        "distance": distance,
        "vcs": "g",
        "rev": rev,
        "build_date": _build_date(),
    }
    return fmt[state].format(**fields)
