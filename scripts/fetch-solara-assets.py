#!/usr/bin/env python3
"""Fill Solara's asset cache from the npm registry, so the classroom page works offline.

Solara's server hands the browser its front-end JavaScript and CSS from
``/_solara/cdn/<package>@<version>/<file>``; on a miss it downloads the file from a
CDN at run time, so on a machine with no network the page stays a blank spinner.
This script puts those packages into the cache beforehand, from the npm registry
(``npm pack``), unpacked as the CDN lays them out:

    <cache>/@widgetti/solara-vuetify-app@10.1.1/dist/solara-vuetify-app8.min.js

Which packages and versions: read from the installed solara itself (its page
template and widget sources), so a solara upgrade fetches what the new version
asks for, and from the classroom's own widget templates (``sim/classroom/*.vue``:
Vega, Vega-Lite and vega-embed for the charts the browser draws). The vuetify-3
app is fetched only when ipyvuetify 3 is installed.

The cache is ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` if set, else Solara's default,
``<sys.prefix>/share/solara/cdn`` (inside the virtual environment).

Usage (run with the project's Python, e.g. ``.venv/bin/python``)::

    python scripts/fetch-solara-assets.py            # what the page needs
    python scripts/fetch-solara-assets.py --check    # exit 1 if something is missing
    python scripts/fetch-solara-assets.py --extra vega --extra vega-lite --extra vega-embed
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

#: package@version specs in solara's sources: "{{cdn}}/requirejs@2.3.6/require.js",
#: "${this.getCdn()}/@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/...".
SPEC = re.compile(r"(?:\{\{ ?cdn ?\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+@[0-9][\w.-]*)")

#: always needed by the page (template, requirejs, fonts, SolaraViz's grid layout)
CORE = ("solara-vuetify-app", "solara-vuetify3-app", "requirejs", "font-awesome", "vue-grid-layout")


def cache_dir() -> Path:
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "solara" / "cdn"


def own_templates() -> list[Path]:
    """The classroom's widget templates (their assets are always wanted)."""
    here = Path(__file__).resolve().parents[1] / "sim" / "classroom"
    try:
        from importlib.resources import files

        here = Path(str(files("sim.classroom")))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    return sorted(here.glob("*.vue"))


def vuetify_major() -> int:
    try:
        return int(metadata.version("ipyvuetify").split(".")[0])
    except metadata.PackageNotFoundError:
        return 1


def wanted(extra: list[str]) -> list[str]:
    """The package@version specs the installed solara asks for."""
    try:
        import solara
    except ImportError:
        sys.exit(
            "fetch-solara-assets: solara is not installed in this Python "
            f"({sys.executable}); install the app extra first"
        )
    root = Path(solara.__file__).parent
    found: set[str] = set()
    for path in [
        *root.glob("server/templates/*.j2"),
        *root.glob("widgets/vue/*.vue"),
        *root.glob("components/*.vue"),
        *root.glob("components/*.py"),
    ]:
        found.update(SPEC.findall(path.read_text(encoding="utf-8", errors="replace")))
    try:
        from solara.server.settings import assets

        fa = assets.fontawesome_path.strip("/").split("/")[0]  # font-awesome@4.5.0
        found.add(fa)
    except Exception:  # pragma: no cover - older solara
        found.add("font-awesome@4.5.0")

    def name(spec: str) -> str:
        return spec.rsplit("@", 1)[0].split("/")[-1]

    own: set[str] = set()
    for path in own_templates():
        own.update(SPEC.findall(path.read_text(encoding="utf-8", errors="replace")))

    v3 = vuetify_major() >= 3
    specs = sorted(own)
    for spec in sorted(found):
        n = name(spec)
        if n == "solara-vuetify3-app" and not v3:
            continue
        if n == "solara-vuetify-app" and v3:
            continue
        if (n in CORE or n in extra) and spec not in specs:
            specs.append(spec)
    return specs


def present(cache: Path, spec: str) -> bool:
    return (cache / spec / "package.json").is_file()


def fetch(cache: Path, spec: str, npm: str) -> None:
    """``npm pack`` one package and unpack it into ``cache/spec``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [npm, "pack", spec, "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if out.returncode != 0:
            raise RuntimeError(
                f"npm pack {spec} failed: {out.stderr.strip() or out.stdout.strip()}"
            )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            raise RuntimeError(f"npm pack {spec}: expected one tarball, got {tarballs}")
        staging = Path(tmp) / "unpacked"
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(staging, filter="data")
        # npm tarballs hold one top folder, usually "package/"
        (top,) = [p for p in staging.iterdir() if p.is_dir()]
        target = cache / spec
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(top, partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check; exit 1 if anything is missing"
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        help="also fetch this package the installed solara refers to (e.g. vega)",
    )
    parser.add_argument("--quiet", "-q", action="store_true")
    args = parser.parse_args(argv)
    cache = cache_dir()
    specs = wanted(args.extra)
    missing = [s for s in specs if not present(cache, s)]
    say = (lambda *a: None) if args.quiet else print
    if args.check:
        for s in specs:
            say(f"{'ok     ' if s not in missing else 'MISSING'} {cache / s}")
        return 1 if missing else 0
    if not missing:
        say(f"Solara assets already cached in {cache} ({len(specs)} packages)")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print(
            "fetch-solara-assets: npm is needed to fetch from the npm registry "
            "(Debian: apt-get install npm)",
            file=sys.stderr,
        )
        return 2
    cache.mkdir(parents=True, exist_ok=True)
    for spec in missing:
        say(f"fetching {spec} from the npm registry")
        try:
            fetch(cache, spec, npm)
        except (RuntimeError, OSError, tarfile.TarError, ValueError) as err:
            print(f"fetch-solara-assets: {err}", file=sys.stderr)
            return 1
    say(f"Solara assets cached in {cache} ({len(specs)} packages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
