"""What the project ships besides code: a licence, a citation, a changelog, agreeing.

``CITATION.cff`` is validated against the Citation File Format 1.2.0 JSON schema
(``tests/data/cff-1.2.0.schema.json``, copied unchanged from the
citation-file-format/citation-file-format repository at tag 1.2.0; CC-BY-4.0), with
formats (dates, URLs) checked. Its version and release date are the newest dated
section of ``CHANGELOG.md``, which keeps the form of Keep a Changelog.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import jsonschema
import yaml
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "cff-1.2.0.schema.json").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _plain(value):
    """YAML 1.1 (PyYAML) reads an unquoted 2026-12-07 as a date; CFF is YAML 1.2,
    where it is a string. Dates back to strings, everywhere."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _citation() -> dict:
    return _plain(yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8")))


def _errors(doc: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(
        SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in validator.iter_errors(doc)
    ]


def test_citation_is_valid_cff_1_2():
    doc = _citation()
    assert doc["cff-version"] == "1.2.0"
    assert _errors(doc) == []


def test_the_schema_check_can_fail():
    """A citation without authors, with an unknown key or a bad date is refused."""
    doc = _citation()
    assert _errors({k: v for k, v in doc.items() if k != "authors"})
    assert _errors({**doc, "autors": doc["authors"]})
    assert _errors({**doc, "date-released": "7 December 2026"})


def _releases() -> list[tuple[str, str]]:
    """(version, date) of every dated section of CHANGELOG.md, newest first."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})$", text, flags=re.M)


def test_changelog_keeps_its_form():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "\n## [Unreleased]\n" in text
    releases = _releases()
    assert releases, "no dated release section"
    versions = [Version(v) for v, _ in releases]
    dates = [dt.date.fromisoformat(d) for _, d in releases]
    assert versions == sorted(versions, reverse=True), "newest release first"
    assert dates == sorted(dates, reverse=True)
    for heading in re.findall(r"^### (.*)$", text, flags=re.M):
        assert heading in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_citation_names_the_newest_release():
    version, date = _releases()[0]
    doc = _citation()
    assert (doc["version"], doc["date-released"]) == (version, date)


def test_licence_file_matches_pyproject():
    assert PYPROJECT["project"]["license"] == "MIT" == _citation()["license"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "the Stalemate authors" in text
