"""Event records: what each state did, month by month, in the model's three actions.

A record is a CSV with one row per actor per month and a small YAML beside it:

- CSV columns: ``period`` (YYYY-MM), ``actor``, ``action`` (concede | hedge |
  escalate: the month's dominant move toward the counterpart), ``flagged`` (0/1: a
  public report or imagery showed undeclared work by the target that month; the
  same on every actor's row of a month), and optionally ``events`` and
  ``sources`` (what happened and where it is reported) and ``event_ids``;
- YAML (same stem): ``name``, ``description``, ``actors`` (key -> ``{role: ...}``
  and optional preferences, as in the ``actors`` config), ``start`` (the state
  in the first month) and ``regime``.

The packaged record ``us_dprk_2018_2019`` is coded by the codebook in
``docs/record.md``; any case in the same format loads the same way
(``load_record("path/to/case.csv")``). A bad record is refused before any
work, naming the file, the row and what is allowed.

Example:
    >>> rec = load_record("us_dprk_2018_2019")
    >>> rec.actors, rec.periods[0], rec.periods[-1], rec.actions.shape
    (('USA', 'DPRK', 'ROK', 'PRC'), '2018-01', '2019-12', (24, 4))
    >>> int(rec.window("2018-01:2019-02").sum())
    14
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np

from sim.model.names import ACTION_NAMES, ROLES, STATE_VARS
from sim.model.params import ModelConfig, default_actors, make_config, model_defaults
from sim.model.validation import ConfigError

#: Where packaged records live.
RECORD_DIR = Path(str(files("sim") / "data" / "records"))
REQUIRED = ("period", "actor", "action", "flagged")
#: The default actor whose preferences an actor of each role starts from.
ROLE_DEFAULTS = {"principal": "USA", "target": "DPRK", "ally": "ROK", "enforcer": "PRC"}


class RecordError(ConfigError):
    """A record that cannot be used, named with its file, row and what is allowed."""


@dataclass
class Record:
    """A coded record as arrays (one row per month, one column per actor).

    Attributes:
        name: the record's name.
        description: one line on the case.
        path: the CSV file.
        periods: the months, in order ("YYYY-MM").
        actors: the actors in the order of the roles file.
        roles: actor -> role.
        actions: (months, actors) action codes (0 concede, 1 hedge, 2 escalate).
        flagged: (months,) whether the target was flagged that month.
        rows: the CSV rows, as read (with events and sources where given).
        settings: actor -> extra preferences from the YAML (weights, trust, …).
        start: the state in the first month.
        regime: the sequencing regime.
        outcome: how the case ended, when the YAML says: ``{"agreement": None}`` means
            no agreement was reached within the record, ``{"agreement": "2015-07"}``
            one in that month (forecasts compare the model with it); empty when unknown.
        schedule: model events at the start of given months (``{period, kind, label,
            shift, force}``; :data:`sim.model.events.EVENT_KINDS`): a summit's warm
            words, a cancelled meeting, a published report, a test.
    """

    name: str
    description: str
    path: Path
    periods: list[str]
    actors: tuple[str, ...]
    roles: dict[str, str]
    actions: np.ndarray
    flagged: np.ndarray
    rows: list[dict] = field(repr=False)
    settings: dict[str, dict] = field(default_factory=dict, repr=False)
    start: dict[str, float] = field(default_factory=dict)
    regime: str = "denuclearization_first"
    outcome: dict[str, str | None] = field(default_factory=dict)
    schedule: list[dict] = field(default_factory=list)

    @property
    def n_months(self) -> int:
        return len(self.periods)

    def save(self, path: str | Path) -> Path:
        """Write this record (CSV + roles YAML) to ``path``, e.g. a simulated run for a
        recovery study of your own (:func:`write_record`; settings are not written)."""
        return write_record(path, self.actions, self.flagged, self.actors, self.roles,
                            start_period=self.periods[0], name=Path(path).stem,
                            description=self.description, start=self.start, regime=self.regime,
                            outcome=self.outcome)  # fmt: skip

    def month_index(self, period: str) -> int:
        """The position of ``period`` in the record.

        Raises:
            RecordError: for a month the record does not cover.
        """
        if period not in self.periods:
            raise RecordError(
                f"{period!r} is not a month of the record {self.name} ({self.periods[0]} .. {self.periods[-1]})"
            )
        return self.periods.index(period)

    def window(self, spec: str | None) -> np.ndarray:
        """A boolean mask of months from ``"YYYY-MM:YYYY-MM"`` (inclusive; an empty side
        means the record's first or last month; None or "" means no month)."""
        mask = np.zeros(self.n_months, dtype=bool)
        if not spec:
            return mask
        if ":" not in spec:
            raise RecordError(
                f"window {spec!r} must be 'YYYY-MM:YYYY-MM' (either side may be empty)"
            )
        lo, hi = (part.strip() for part in spec.split(":", 1))
        i = self.month_index(lo) if lo else 0
        j = self.month_index(hi) if hi else self.n_months - 1
        if j < i:
            raise RecordError(f"window {spec!r} ends before it starts")
        mask[i : j + 1] = True
        return mask

    def config(self, **changes) -> ModelConfig:
        """The model config that plays this record: its actors and roles (the other default
        actors disabled), one round per month, its starting state and regime.

        Roles, not names: every actor starts from the default actor of its role
        (:data:`ROLE_DEFAULTS`: its weights, momentum and private types), whatever it is
        called, then the YAML's settings, then ``changes["actors"]`` (by actor name).
        ``defaults="handset"`` starts from the hand-set preferences instead of the
        estimated ones.
        """
        from dataclasses import asdict

        from sim.model.params import ActorConfig, merge_types
        from sim.model.validation import to_dataclass

        preferences = changes.pop("defaults", "estimated")  # or "handset" (docs/calibration.md)
        defaults = default_actors(preferences)
        if preferences == "handset":
            changes.setdefault("rationality", model_defaults("handset")["rationality"])
        given = changes.pop("actors", None) or {}
        actors: dict = {n: {"enabled": False} for n in defaults if n not in self.roles}
        for name, role in self.roles.items():
            spec = asdict(defaults[ROLE_DEFAULTS[role]])
            spec["role"] = role
            for extra in (self.settings.get(name) or {}, given.get(name) or {}):
                spec = _merge_actor(spec, extra, f"actors.{name}", merge_types)
            actors[name] = to_dataclass(ActorConfig, spec, f"actors.{name}")
        for name, spec in given.items():
            if name not in actors:
                actors[name] = spec
        events = [
            {"round": self.periods.index(e["period"]) + 1, "kind": e["kind"], "label": e.get("label", ""),
             "shift": dict(e.get("shift") or {}), "force": dict(e.get("force") or {})}
            for e in self.schedule
        ] + list(changes.pop("events", None) or [])  # fmt: skip
        kw = {"rounds": self.n_months, "regime": self.regime, **self.start, **changes}
        return make_config(actors=actors, events=events, **kw)


def _merge_actor(spec: dict, extra: dict, key: str, merge_types) -> dict:
    """An actor's settings with ``extra`` merged over them: weights feature by feature,
    types type by type (as ``make_config`` merges an override over a default actor)."""
    out = dict(spec)
    for k, v in extra.items():
        if k in ACTION_NAMES and isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        elif k == "types" and isinstance(v, dict) and v and isinstance(out.get(k), dict):
            out[k] = merge_types(out[k], v, f"{key}.types")
        else:
            out[k] = v
    if isinstance(out.get("types"), dict):
        out["types"] = {n: t for n, t in out["types"].items() if t is not None}
    return out


#: The largest record file read, and the longest field: far above any real case (a record
#: of 50 actors over a century of months is about 5 MB), small enough to refuse a wrong file
#: at once. Records load in time linear in their length.
MAX_BYTES = 64 * 2**20
MAX_FIELD = 2**20
#: Keys a record's YAML may have.
YAML_KEYS = ("name", "description", "events", "actors", "start", "regime", "outcome", "schedule")
#: What an actor or record name may look like (names become column names and config keys).
NAME_PATTERN = r"[A-Za-z][A-Za-z0-9_]*"


def _read_yaml(path: Path) -> dict:
    from omegaconf import OmegaConf

    if not path.is_file():
        raise RecordError(
            f"{path}: the roles file is missing (a record's .yaml sits beside its .csv)"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise RecordError(f"{path}: {_not_utf8(err)}") from None
    try:
        data = OmegaConf.to_container(OmegaConf.create(text), resolve=True)
    except Exception as err:  # noqa: BLE001 - any YAML problem, named with its file
        raise RecordError(
            f"{path}: not a readable YAML file ({str(err).splitlines()[0]})"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecordError(
            f"{path}: the top level must be a mapping of {', '.join(YAML_KEYS)}, not a {type(data).__name__}"
        )
    return data


def _not_utf8(err: UnicodeDecodeError) -> str:
    return (f"not UTF-8 text (byte 0x{err.object[err.start]:02x} at position {err.start}); "
            "save the file as UTF-8 (CSV UTF-8 in Excel)")  # fmt: skip


def resolve(name_or_path: str | Path) -> Path:
    """The CSV of a packaged record name, or the path given.

    A name (letters, digits, ``_``, ``-``; no folder) is looked up among the packaged
    records only; anything else must be the path of an existing ``.csv`` file, so a
    name can never reach outside the records folder.

    Raises:
        RecordError: for a name that is not packaged, and a path that is not an
            existing .csv file.
    """
    import re

    text = str(name_or_path)
    names = ", ".join(record_names())
    if text.endswith(".csv") or "/" in text or "\\" in text or text.startswith("."):
        path = Path(text)
        if path.suffix != ".csv":
            raise RecordError(
                f"record = {text!r} is not a .csv file; give a packaged record ({names}) "
                "or the path of a record's .csv (its .yaml beside it)"
            )
        if path.is_dir():
            raise RecordError(f"record = {text!r} is a folder, not a record's .csv file")
        if not path.is_file():
            raise RecordError(f"record = {text!r}: no such file")
        return path
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", text) and (RECORD_DIR / f"{text}.csv").is_file():
        return RECORD_DIR / f"{text}.csv"
    raise RecordError(
        f"record = {text!r} is neither a packaged record ({names}) nor the path of a .csv file"
    )


def _check_meta(meta: dict, meta_path: Path) -> tuple[dict, dict, dict, dict, str]:
    """The YAML's roles, settings, start, outcome and regime, each checked."""
    import re

    from sim.model.sequencing import REGIMES
    from sim.model.validation import suggest

    for key in meta:
        if key not in YAML_KEYS:
            raise RecordError(
                f"{meta_path}: {key!r} is not a key of a record's YAML; allowed: {', '.join(YAML_KEYS)}"
                + suggest(str(key), YAML_KEYS)
            )
    actors_meta = meta.get("actors")
    if not isinstance(actors_meta, dict) or not actors_meta:
        raise RecordError(
            f"{meta_path}: 'actors' must map each actor to its settings, e.g. USA: {{role: principal}}"
        )
    roles, settings = {}, {}
    for name, spec in actors_meta.items():
        name = str(name)
        if not re.fullmatch(NAME_PATTERN, name):
            raise RecordError(
                f"{meta_path}: actor name {name!r} is not allowed; use letters, digits and _ "
                "starting with a letter (e.g. USA, DPRK, GBR)"
            )
        if not isinstance(spec, dict):
            raise RecordError(
                f"{meta_path}: actors.{name} = {spec!r} must be a mapping of settings, "
                f"e.g. {name}: {{role: {spec if spec in ROLES else 'principal'}}}"
            )
        spec = dict(spec)
        role = spec.pop("role", None)
        if role not in ROLES:
            raise RecordError(
                f"{meta_path}: actors.{name}.role = {role!r} is not allowed; choose one of: {', '.join(ROLES)}"
            )
        roles[name] = role
        settings[name] = spec
    for role in ("target", "principal"):
        holders = [n for n, r in roles.items() if r == role]
        if len(holders) != 1:
            raise RecordError(
                f"{meta_path}: exactly one actor must have role {role!r}, found {holders or 'none'}"
            )
    outcome = meta.get("outcome") or {}
    if not isinstance(outcome, dict):
        raise RecordError(
            f"{meta_path}: outcome = {outcome!r} must be a mapping, e.g. {{agreement: null}}"
        )
    outcome = dict(outcome)
    for key, when in outcome.items():
        if key not in ("agreement", "breakdown"):
            raise RecordError(
                f"{meta_path}: outcome.{key} is not an outcome; allowed: agreement, breakdown"
            )
        if when is not None and not (isinstance(when, str) and len(when) == 7 and when[4] == "-"):
            raise RecordError(
                f"{meta_path}: outcome.{key} = {when!r} must be a month as YYYY-MM, or null (did not happen)"
            )
    if "start" not in meta:
        raise RecordError(
            f"{meta_path}: 'start' is missing: give the state in the first month, one number in [0, 1] "
            f"for each of {', '.join(STATE_VARS)} (docs/record.md says how to choose them)"
        )
    start = meta.get("start")
    if not isinstance(start, dict):
        raise RecordError(
            f"{meta_path}: start = {start!r} must map state variables to numbers in [0, 1]"
        )
    checked = {}
    for key, value in start.items():
        if key not in STATE_VARS:
            raise RecordError(
                f"{meta_path}: start.{key} is not a state variable; allowed: {', '.join(STATE_VARS)}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise RecordError(f"{meta_path}: start.{key} = {value!r} must be a number in [0, 1]")
        checked[key] = float(value)
    missing = [v for v in STATE_VARS if v not in checked]
    if missing:
        raise RecordError(
            f"{meta_path}: start must give every state variable in the first month; missing: "
            f"{', '.join(missing)} (docs/record.md says how to choose them)"
        )
    regime = str(meta.get("regime") or "denuclearization_first")
    if regime not in REGIMES:
        raise RecordError(
            f"{meta_path}: regime = {regime!r} is not allowed; choose one of: {', '.join(REGIMES)}"
        )
    return roles, settings, checked, outcome, regime


def _check_schedule(
    schedule, meta_path: Path, periods, roles, actions, flagged, target
) -> list[dict]:
    """The YAML's ``schedule`` (model events by month), checked against the record: a
    known kind in one of its months; a test or a forced move must be what the record
    shows that month, and a report must fall in a flagged month (the likelihood counts a
    forced move and a report's flag as certain)."""
    from sim.model.events import EVENT_KINDS, event_effects
    from sim.model.params import EventConfig
    from sim.model.validation import to_dataclass

    if schedule is None:
        return []
    if not isinstance(schedule, list):
        raise RecordError(f"{meta_path}: schedule = {schedule!r} must be a list of events, e.g. "
                          "[{period: 2018-06, kind: summit, label: Singapore}]")  # fmt: skip
    out = []
    for k, e in enumerate(schedule):
        key = f"{meta_path}: schedule[{k}]"
        if not isinstance(e, dict):
            raise RecordError(f"{key} = {e!r} must be a mapping with period and kind")
        unknown = set(e) - {"period", "kind", "label", "shift", "force"}
        if unknown:
            raise RecordError(
                f"{key}: {', '.join(sorted(unknown))} is not a key; allowed: period, kind, label, shift, force"
            )
        period = str(e.get("period", ""))
        if period not in periods:
            raise RecordError(
                f"{key}.period = {e.get('period')!r} is not a month of the record ({periods[0]} .. {periods[-1]})"
            )
        kind = e.get("kind")
        if kind not in EVENT_KINDS:
            raise RecordError(
                f"{key}.kind = {kind!r} is not allowed; choose one of: {', '.join(EVENT_KINDS)}"
            )
        for name in e.get("force") or {}:
            if name not in roles:
                raise RecordError(
                    f"{key}.force: {name!r} is not an actor of the record ({', '.join(roles)})"
                )
        try:
            ev = to_dataclass(
                EventConfig, {"round": 1, **{k2: v for k2, v in e.items() if k2 != "period"}}, key
            )
        except ConfigError as err:
            raise RecordError(str(err)) from None
        shift, force, flag = event_effects(ev, target)
        t = periods.index(period)
        for name, act in force.items():
            if ACTION_NAMES[int(actions[t, list(roles).index(name)])] != act:
                raise RecordError(f"{key}: {kind} forces {name} to {act} in {period}, but the record has "
                                  f"{ACTION_NAMES[int(actions[t, list(roles).index(name)])]}")  # fmt: skip
        if flag and not flagged[t]:
            raise RecordError(
                f"{key}: a report flags {period}, but the record's flag is 0 that month"
            )
        out.append(dict(e, period=period))
    return out


def _month_ok(period: str) -> bool:
    return (
        len(period) == 7
        and period[4] == "-"
        and period[:4].isdigit()
        and period[5:].isdigit()
        and 1 <= int(period[5:]) <= 12
    )


def load_record(name_or_path: str | Path) -> Record:
    """Read and check a record; see the module docstring for the format.

    The CSV may carry a byte-order mark (as Excel saves it); a month's ``flagged`` may be
    given on the target's row alone (the other rows empty) or on every row alike.

    Raises:
        RecordError: in one line naming the file, the row and what is allowed — for a
            file that is not UTF-8 or too large, a bad YAML, an unknown action, a
            missing or duplicated actor-month, an actor not in the roles file, a period
            out of order, or flags that differ within a month.
    """
    path = resolve(name_or_path)
    meta_path = path.with_suffix(".yaml")
    meta = _read_yaml(meta_path)
    roles, settings, start, outcome, regime = _check_meta(meta, meta_path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise RecordError(
            f"{path}: {size / 2**20:.0f} MB is larger than a record may be ({MAX_BYTES // 2**20} MB)"
        )
    target = next(n for n, r in roles.items() if r == "target")
    csv.field_size_limit(MAX_FIELD)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for col in REQUIRED:
                if col not in header:
                    raise RecordError(
                        f"{path}: the column {col!r} is missing; required: {', '.join(REQUIRED)} "
                        f"(found: {', '.join(map(str, header)) or 'no header'})"
                    )
            rows = list(reader)
    except UnicodeDecodeError as err:
        raise RecordError(f"{path}: {_not_utf8(err)}") from None
    except csv.Error as err:
        raise RecordError(
            f"{path} row {reader.line_num}: {err} (fields may hold up to {MAX_FIELD} characters)"
        ) from None
    if not rows:
        raise RecordError(f"{path}: the record has no rows")

    actors = tuple(roles)
    periods: list[str] = []
    where_period: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    flags: dict[str, tuple[int, int]] = {}
    for k, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{path.name} row {k}"
        period, actor = (row.get("period") or "").strip(), (row.get("actor") or "").strip()
        if not _month_ok(period):
            raise RecordError(f"{where}: period = {period!r} must be a month as YYYY-MM")
        if actor not in roles:
            raise RecordError(
                f"{where}: actor {actor!r} is not in the roles file {meta_path.name}; actors: {', '.join(actors)}"
            )
        action = (row.get("action") or "").strip()
        if action not in ACTION_NAMES:
            raise RecordError(
                f"{where}: action = {action!r} is not allowed; choose one of: {', '.join(ACTION_NAMES)}"
            )
        flag = (row.get("flagged") or "").strip()
        if flag not in ("0", "1") and not (flag == "" and actor != target):
            raise RecordError(
                f"{where}: flagged = {flag!r} must be 0 or 1"
                + (
                    " (on the target's row; other rows may leave it empty)"
                    if actor == target
                    else ""
                )
            )
        if (period, actor) in seen:
            raise RecordError(
                f"{where}: {actor} in {period} is already on row {seen[period, actor]} (one row per actor-month)"
            )
        seen[period, actor] = k
        if not periods or periods[-1] != period:
            if periods and period < periods[-1]:
                raise RecordError(
                    f"{where}: period {period} comes after {periods[-1]}; rows must be in month order"
                )
            if period in where_period:
                raise RecordError(
                    f"{where}: the rows of {period} are not together; rows must be in month order"
                )
            if periods and _next_month(periods[-1]) != period:
                raise RecordError(
                    f"{where}: {period} follows {periods[-1]}; the month {_next_month(periods[-1])} is missing"
                )
            where_period[period] = len(periods)
            periods.append(period)
        if flag:
            if period in flags and flags[period][0] != int(flag):
                raise RecordError(
                    f"{where}: flagged = {flag} but row {flags[period][1]} has {flags[period][0]} for {period}; "
                    "a month's flag is the same on every row that gives it"
                )
            flags.setdefault(period, (int(flag), k))
    for period in periods:
        for actor in actors:
            if (period, actor) not in seen:
                raise RecordError(
                    f"{path.name}: {actor} has no row for {period} (one row per actor per month)"
                )
    code = {a: i for i, a in enumerate(ACTION_NAMES)}
    column = {a: i for i, a in enumerate(actors)}
    actions = np.empty((len(periods), len(actors)), dtype=np.int64)
    for row in rows:
        actions[where_period[row["period"].strip()], column[row["actor"].strip()]] = code[
            row["action"].strip()
        ]
    flagged = np.array([flags[p][0] == 1 for p in periods])
    schedule = _check_schedule(
        meta.get("schedule"), meta_path, periods, roles, actions, flagged, target
    )
    record = Record(
        name=str(meta.get("name") or path.stem),
        description=str(meta.get("description") or ""),
        path=path,
        periods=periods,
        actors=actors,
        roles=roles,
        actions=actions,
        flagged=flagged,
        rows=rows,
        settings=settings,
        start=start,
        regime=regime,
        outcome=outcome,
        schedule=schedule,
    )
    try:  # the YAML's preferences are checked now, not when a fit first uses them
        record.config()
    except RecordError:
        raise
    except ConfigError as err:
        raise RecordError(f"{meta_path}: {err}") from None
    return record


def _next_month(period: str) -> str:
    y, m = int(period[:4]), int(period[5:])
    return f"{y + (m == 12)}-{1 if m == 12 else m + 1:02d}"


def month_after(period: str, k: int) -> str:
    """The month ``k`` months after ``period``.

    Example:
        >>> month_after("2018-11", 3)
        '2019-02'
    """
    if k <= 0:
        return period
    t = int(period[:4]) * 12 + int(period[5:]) - 1 + k  # in constant time, not k steps
    return f"{t // 12}-{t % 12 + 1:02d}"


def write_record(
    path: str | Path,
    actions: np.ndarray,
    flagged: np.ndarray,
    actors: tuple[str, ...],
    roles: dict[str, str],
    start_period: str = "2018-01",
    name: str | None = None,
    description: str = "",
    start: dict | None = None,
    regime: str = "denuclearization_first",
    outcome: dict | None = None,
) -> Path:
    """Write a record (CSV + roles YAML) from action codes and flags — for example a
    simulated run, so recovery studies can use the same format as the data.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "toy.csv"
        >>> _ = write_record(p, np.array([[0, 1], [2, 1]]), np.array([False, True]), ("A", "B"),
        ...                  {"A": "principal", "B": "target"})
        >>> load_record(p).actions.tolist()
        [[0, 1], [2, 1]]
    """
    from omegaconf import OmegaConf

    from sim.report.io import write_text

    path = Path(path)
    lines = ["period,actor,action,flagged"]
    period = start_period
    for t in range(actions.shape[0]):
        for i, actor in enumerate(actors):
            lines.append(
                f"{period},{actor},{ACTION_NAMES[int(actions[t, i])]},{int(bool(flagged[t]))}"
            )
        period = _next_month(period)
    write_text("\n".join(lines) + "\n", path)
    meta = {
        "name": name or path.stem,
        "description": description,
        "actors": {a: {"role": roles[a]} for a in actors},
        "start": {v: float(getattr(ModelConfig, v)) for v in STATE_VARS} | dict(start or {}),
        "regime": regime,
    }
    if outcome:
        meta["outcome"] = dict(outcome)
    write_text(OmegaConf.to_yaml(OmegaConf.create(meta)), path.with_suffix(".yaml"))
    return path


def record_names() -> list[str]:
    """The packaged records."""
    return sorted(p.stem for p in RECORD_DIR.glob("*.csv") if p.with_suffix(".yaml").exists())


def simulated_record(
    cfg: ModelConfig, seed: int, start_period: str = "2018-01", name: str = "simulated"
) -> Record:
    """A run of the model as a record in the same format: what each actor did each
    round (one round per month) and whether imagery flagged the target.

    The run plays its whole horizon: a record goes on whatever the model would
    call its outcome, so set ``agreement_threshold`` and ``breakdown_threshold``
    to 1 in ``cfg`` when the record should have every month (as recovery does).
    Write it with :meth:`Record.save` to use it like any other case.

    Example:
        >>> from sim import make_config
        >>> rec = simulated_record(make_config(rounds=6, agreement_threshold=1.0, breakdown_threshold=1.0), 3)
        >>> rec.actions.shape, rec.periods[-1]
        ((6, 4), '2018-06')
    """
    from sim.engines.batch import run_one

    run = run_one(cfg, seed)
    played = run.round
    names = run.structure.names
    actions = run.history.actions[0, 1 : played + 1].astype(np.int64)
    flagged = run.history.flag[0, 1 : played + 1].astype(bool)
    periods = [month_after(start_period, k) for k in range(played)]
    roles = dict(zip(names, run.structure.roles))
    rows = [
        {
            "period": p,
            "actor": a,
            "action": ACTION_NAMES[int(actions[t, i])],
            "flagged": str(int(flagged[t])),
        }
        for t, p in enumerate(periods)
        for i, a in enumerate(names)
    ]
    start = {v: float(getattr(cfg, v)) for v in STATE_VARS}
    ended = {"agreement": None, "breakdown": None}
    if run.outcome in ended and run.round >= 1:
        ended[run.outcome] = periods[run.round - 1]
    return Record(name, f"simulated run, seed {seed}", Path(f"{name}.csv"), periods, names, roles, actions,
                  flagged, rows, {}, start, cfg.regime, ended)  # fmt: skip


# ----------------------------------------------------------------------------------
# coding reliability

#: The weight of each event code in a month's score (docs/record.md): a concrete step
#: counts twice a verbal one; talk and flag-only reports count zero.
CODE_WEIGHTS = {"C2": 2, "C1": 1, "H": 0, "F": 0, "E1": -1, "E2": -2}


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two codings of the same items: (p_o - p_e) / (1 - p_e).

    1 when the codings agree on every item (also when both use one category only).

    Example:
        >>> cohen_kappa(["c", "h", "c", "h"], ["c", "h", "h", "h"])
        0.5
    """
    a, b = np.asarray(a), np.asarray(b)
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == c) * np.mean(b == c) for c in np.union1d(a, b)))
    return 1.0 if pe == 1.0 else round((po - pe) / (1.0 - pe), 12)


def month_actions(codes, periods: dict[str, str]) -> dict[tuple[str, str], str]:
    """The codebook's month rule: sum the event codes' weights per actor-month; > 0 is
    concede, < 0 escalate, 0 hedge. ``codes`` is an iterable of (event_id, actor, code),
    ``periods`` event_id -> YYYY-MM. Actor-months without events are not listed (hedge)."""
    score: dict[tuple[str, str], int] = {}
    for event, actor, code in codes:
        key = (periods[event], actor)
        score[key] = score.get(key, 0) + CODE_WEIGHTS[code]
    return {k: "concede" if v > 0 else "escalate" if v < 0 else "hedge" for k, v in score.items()}


#: The columns of a record's sourced event list (``<name>.events.csv``).
EVENT_COLUMNS = (
    "event_id",
    "date",
    "period",
    "actors",
    "event",
    "flag_report",
    "source",
    "url",
    "evidence",
)
#: The columns of a record's codes (``<name>.codes.csv``): one row per event x actor.
CODE_COLUMNS = ("event_id", "actor", "coder_a", "resolved", "label")


def _read_table(path: Path, required: tuple[str, ...]) -> list[dict]:
    """Rows of a UTF-8 CSV (a byte-order mark is fine) with the ``required`` columns."""
    if not path.is_file():
        raise RecordError(f"{path}: no such file")
    csv.field_size_limit(MAX_FIELD)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise RecordError(
                    f"{path}: the column(s) {', '.join(missing)} are missing; required: {', '.join(required)}"
                )
            return list(reader)
    except UnicodeDecodeError as err:
        raise RecordError(f"{path}: {_not_utf8(err)}") from None
    except csv.Error as err:
        raise RecordError(f"{path}: {err}") from None


def read_codes(record: Record) -> tuple[list[dict], list[dict]]:
    """A record's sourced events and its codes (``<stem>.events.csv``, ``<stem>.codes.csv``
    beside its CSV), checked: every code one of :data:`CODE_WEIGHTS`, every coded event
    listed, every actor in the record, every event's month in the record.

    Raises:
        RecordError: naming the file, the row and what is allowed.
    """
    events_path = record.path.with_suffix("").with_suffix(".events.csv")
    codes_path = record.path.with_suffix("").with_suffix(".codes.csv")
    events = _read_table(events_path, ("event_id", "period", "actors", "flag_report"))
    codes = _read_table(codes_path, ("event_id", "actor", "resolved"))
    ids: dict[str, int] = {}
    for k, e in enumerate(events, start=2):
        if e["event_id"] in ids:
            raise RecordError(
                f"{events_path.name} row {k}: event {e['event_id']!r} is already on row {ids[e['event_id']]}"
            )
        ids[e["event_id"]] = k
        if e["period"] not in record.periods:
            raise RecordError(f"{events_path.name} row {k}: period {e['period']!r} is not a month of the record "
                              f"({record.periods[0]} .. {record.periods[-1]})")  # fmt: skip
        if e["flag_report"].strip() not in ("0", "1"):
            raise RecordError(
                f"{events_path.name} row {k}: flag_report = {e['flag_report']!r} must be 0 or 1"
            )
    coders = (
        [c for c in codes[0] if c.startswith("coder_") or c == "resolved"]
        if codes
        else ["resolved"]
    )
    for k, c in enumerate(codes, start=2):
        if c["event_id"] not in ids:
            raise RecordError(
                f"{codes_path.name} row {k}: event {c['event_id']!r} is not in {events_path.name}"
            )
        if c["actor"] not in record.actors:
            raise RecordError(f"{codes_path.name} row {k}: actor {c['actor']!r} is not an actor of the record "
                              f"({', '.join(record.actors)})")  # fmt: skip
        for col in coders:
            code = (c.get(col) or "").strip()
            if code and code not in CODE_WEIGHTS:
                raise RecordError(f"{codes_path.name} row {k}: {col} = {code!r} is not a code; "
                                  f"allowed: {', '.join(CODE_WEIGHTS)}")  # fmt: skip
        if not (c.get("resolved") or "").strip():
            raise RecordError(
                f"{codes_path.name} row {k}: resolved is empty (the code the record uses)"
            )
        listed = [a.strip() for a in events[ids[c["event_id"]] - 2]["actors"].split(";")]
        if c["actor"] not in listed:
            raise RecordError(f"{codes_path.name} row {k}: {c['actor']} is coded for {c['event_id']}, "
                              f"whose actors are {';'.join(listed)}")  # fmt: skip
        if c["resolved"].strip() == "F" and record.roles[c["actor"]] != "target":
            raise RecordError(f"{codes_path.name} row {k}: F (a flag report) is coded for {c['actor']}, "
                              "but flags are attributed to the target")  # fmt: skip
    coded = {(c["event_id"], c["actor"]) for c in codes}
    for e in events:
        for a in (x.strip() for x in e["actors"].split(";") if x.strip()):
            if a in record.actors and (e["event_id"], a) not in coded:
                raise RecordError(
                    f"{codes_path.name}: {e['event_id']} lists {a} among its actors but has no code for it"
                )
    return events, codes


def built_rows(record: Record, events: list[dict], codes: list[dict]) -> list[dict]:
    """The record's rows rebuilt from its events and resolved codes by the codebook's month
    rule (:func:`month_actions`): each actor-month's action, the month's flag (any
    event with ``flag_report`` 1), and the events, sources and ids behind it."""
    period = {e["event_id"]: e["period"] for e in events}
    event = {e["event_id"]: e for e in events}
    acts = month_actions(
        [(c["event_id"], c["actor"], c["resolved"].strip()) for c in codes], period
    )
    flagged = {p: False for p in record.periods}
    for e in events:
        flagged[e["period"]] |= e["flag_report"].strip() == "1"
    mine: dict[tuple[str, str], list[dict]] = {}
    for c in codes:
        mine.setdefault((period[c["event_id"]], c["actor"]), []).append(c)
    rows = []
    for p in record.periods:
        for a in record.actors:
            cs = sorted(
                mine.get((p, a), []),
                key=lambda c: (event[c["event_id"]].get("date", ""), c["event_id"]),
            )
            rows.append({
                "period": p, "actor": a, "action": acts.get((p, a), "hedge"), "flagged": int(flagged[p]),
                "events": " | ".join(c.get("label") or event[c["event_id"]].get("event", "") for c in cs),
                "sources": " | ".join(event[c["event_id"]].get("source", "") for c in cs),
                "event_ids": ";".join(c["event_id"] for c in cs),
            })  # fmt: skip
    return rows


def reliability(name: str | Path = "us_dprk_2018_2019"):
    """Agreement of each recoding with the first coding, per actor: Cohen's kappa and
    the share agreeing, on actor-months (the record's actions) and on event codes.

    Reads ``<name>.codes.csv`` and ``<name>.events.csv`` beside the record (a packaged
    name or a path): one row per event x actor with each coder's code (``coder_a``,
    ``coder_b``, …); month actions follow from the codes by :func:`month_actions`.

    Example:
        >>> t = reliability()
        >>> sorted(t["coder"].unique()), bool((t.query("level == 'month'")["kappa"] == 1.0).all())
        (['coder_b', 'coder_c'], True)
    """
    import pandas as pd

    record = load_record(name)
    events, codes_rows = read_codes(record)
    codes = pd.DataFrame(codes_rows)
    periods = {e["event_id"]: e["period"] for e in events}
    coders = [
        c for c in codes.columns if c.startswith("coder_") and (codes[c].str.strip() != "").all()
    ]
    if len(coders) < 2:
        raise RecordError(
            f"{record.path.with_suffix('').with_suffix('.codes.csv')}: reliability needs at least two complete "
            f"codings (columns coder_a, coder_b, …); found {', '.join(coders) or 'none'}"
        )
    months = [(p, a) for p in record.periods for a in record.actors]

    def actions(col):
        got = month_actions(zip(codes["event_id"], codes["actor"], codes[col].str.strip()), periods)
        return [got.get(k, "hedge") for k in months]

    first = actions(coders[0])
    rows = []
    for coder in coders[1:]:
        other = actions(coder)
        for actor in record.actors:
            pick = [i for i, (_, a) in enumerate(months) if a == actor]
            x, y = [first[i] for i in pick], [other[i] for i in pick]
            rows.append({"coder": coder, "level": "month", "actor": actor, "n": len(pick),
                         "agree": float(np.mean(np.array(x) == np.array(y))), "kappa": cohen_kappa(x, y)})  # fmt: skip
            ev = codes[codes["actor"] == actor]
            rows.append({"coder": coder, "level": "event", "actor": actor, "n": len(ev),
                         "agree": float(np.mean(ev[coders[0]] == ev[coder])) if len(ev) else 1.0,
                         "kappa": cohen_kappa(ev[coders[0]], ev[coder]) if len(ev) else 1.0})  # fmt: skip
    return pd.DataFrame(rows)
