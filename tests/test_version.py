"""The version comes from git tags, and ``sim.__version__`` says what the build says.

The build computes the version with versioningit (``[tool.versioningit]`` in
``pyproject.toml``); at run time a checkout asks git through :mod:`sim._version`, so a
long-lived editable install never reports a stale version. Here both are run on small
repositories made for the test — no tags, shallow, on a tag, after it, with uncommitted
changes — and must agree; and on this checkout itself.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
from pathlib import Path

import pytest

import sim
from sim import _version

versioningit = pytest.importorskip("versioningit")

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")

#: 2026-12-07, so that both sides stamp the same date on a dirty tree.
EPOCH = "1796601600"


def git(repo: Path, *args: str) -> str:
    cmd = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "-c",
        "commit.gpgsign=false",
    ]
    return subprocess.run([*cmd, "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip


def commit(repo: Path, n: int = 1) -> None:
    for _ in range(n):
        with open(repo / "log.txt", "a") as f:
            f.write("x\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "x")


def both(repo: Path) -> tuple[str | None, str]:
    """(ours, versioningit's) version of ``repo``."""
    return _version.from_git(repo), versioningit.get_version(repo, write=False, fallback=True)


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A repository holding our pyproject.toml and three commits, no tags."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    r = tmp_path / "repo"
    r.mkdir()
    shutil.copy(ROOT / "pyproject.toml", r / "pyproject.toml")
    git(r, "init", "-q")
    commit(r, 3)
    return r


def test_without_tags_counts_from_the_first_commit(repo):
    rev = git(repo, "rev-parse", "--short", "HEAD")
    assert both(repo) == (f"0.2.0.dev2+g{rev}",) * 2
    (repo / "log.txt").write_text("edited\n")
    assert both(repo) == (f"0.2.0.dev2+g{rev}.d20261207",) * 2


def test_on_a_tag_and_after_it(repo):
    git(repo, "tag", "-a", "v0.2.0", "-m", "v0.2.0")
    assert both(repo) == ("0.2.0", "0.2.0")
    (repo / "log.txt").write_text("edited\n")
    assert both(repo) == ("0.2.0+d20261207",) * 2
    commit(repo, 2)
    rev = git(repo, "rev-parse", "--short", "HEAD")
    assert both(repo) == (f"0.3.0.dev2+g{rev}",) * 2
    git(repo, "tag", "not-a-release")  # only v<digit>… tags count
    assert both(repo) == (f"0.3.0.dev2+g{rev}",) * 2


def test_a_shallow_clone_without_tags_has_a_usable_version(repo, tmp_path):
    git(repo, "tag", "-a", "v0.2.0", "-m", "v0.2.0", "HEAD~1")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=1", "--no-tags", f"file://{repo}", str(clone)],
                   check=True, capture_output=True)  # fmt: skip
    assert both(clone) == ("0.2.0.dev0", "0.2.0.dev0")


def test_this_checkout_says_what_its_build_would_say(monkeypatch):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    ours, theirs = both(ROOT)
    assert ours == theirs
    assert _version.version(ROOT) == ours
    assert sim.__version__.split("+")[0] == ours.split("+")[0]  # read once, at first use


def test_without_git_the_installed_metadata_or_unknown(tmp_path, monkeypatch):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    try:
        installed = importlib.metadata.version(_version.DIST)
    except importlib.metadata.PackageNotFoundError:
        installed = _version.UNKNOWN
    assert _version.version(tmp_path) == installed  # a copy of the files, no .git
    (tmp_path / ".git").mkdir()  # a broken or foreign checkout: git cannot say
    assert _version.from_git(tmp_path) is None
    assert _version.version(tmp_path) == installed
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # git not installed
    assert _version.from_git(ROOT) is None


def test_another_projects_checkout_is_not_read(repo):
    text = (repo / "pyproject.toml").read_text().replace('name = "stalemate-sim"', 'name = "other"')
    (repo / "pyproject.toml").write_text(text)
    assert _version.from_git(repo) is None
