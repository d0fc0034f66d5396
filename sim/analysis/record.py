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
from sim.model.params import ModelConfig, default_actors, make_config
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

        Actors the model does not know start from the default actor of their role
        (:data:`ROLE_DEFAULTS`), then the YAML's settings, then ``changes["actors"]``.
        """
        defaults = default_actors()
        actors: dict[str, dict] = {n: {"enabled": False} for n in defaults if n not in self.roles}
        for name, role in self.roles.items():
            spec: dict = {"role": role}
            if name not in defaults:
                base = defaults[ROLE_DEFAULTS[role]]
                spec.update({"trust": base.trust, "concede": dict(base.concede), "hedge": dict(base.hedge),
                             "escalate": dict(base.escalate)})  # fmt: skip
            spec.update(self.settings.get(name, {}))
            actors[name] = spec
        for name, spec in (changes.pop("actors", None) or {}).items():
            merged = {**actors.get(name, {}), **spec}
            for action in ACTION_NAMES:  # weights merge key by key, as make_config does
                if isinstance(spec.get(action), dict) and isinstance(
                    actors.get(name, {}).get(action), dict
                ):
                    merged[action] = {**actors[name][action], **spec[action]}
            actors[name] = merged
        kw = {"rounds": self.n_months, "regime": self.regime, **self.start, **changes}
        return make_config(actors=actors, **kw)


def _read_yaml(path: Path) -> dict:
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(OmegaConf.load(path), resolve=True) or {}
    except Exception as err:  # noqa: BLE001 - any YAML problem, named with its file
        raise RecordError(
            f"{path}: not a readable YAML file ({str(err).splitlines()[0]})"
        ) from None


def resolve(name_or_path: str | Path) -> Path:
    """The CSV of a packaged record name, or the path given.

    Raises:
        RecordError: for a name that is not packaged and a path that does not exist.
    """
    path = Path(name_or_path)
    if path.suffix == ".csv" and path.exists():
        return path
    packaged = RECORD_DIR / f"{name_or_path}.csv"
    if packaged.exists():
        return packaged
    names = record_names()
    raise RecordError(
        f"record = {str(name_or_path)!r} is neither a packaged record ({', '.join(names)}) nor an existing .csv file"
    )


def load_record(name_or_path: str | Path) -> Record:
    """Read and check a record; see the module docstring for the format.

    Raises:
        RecordError: naming the file, the row and what is allowed, for an unknown
            action, a missing or duplicated actor-month, an actor not in the roles
            file, a period out of order, or a flag that differs between actors.
    """
    path = resolve(name_or_path)
    meta_path = path.with_suffix(".yaml")
    if not meta_path.exists():
        raise RecordError(f"{path}: the roles file {meta_path.name} is missing beside it")
    meta = _read_yaml(meta_path)
    actors_meta = meta.get("actors") or {}
    if not isinstance(actors_meta, dict) or not actors_meta:
        raise RecordError(
            f"{meta_path}: 'actors' must map each actor to its settings, e.g. USA: {{role: principal}}"
        )
    roles, settings = {}, {}
    for name, spec in actors_meta.items():
        spec = dict(spec or {})
        role = spec.pop("role", None)
        if role not in ROLES:
            raise RecordError(
                f"{meta_path}: actors.{name}.role = {role!r} is not allowed; choose one of: {', '.join(ROLES)}"
            )
        roles[str(name)] = role
        settings[str(name)] = spec
    for role in ("target", "principal"):
        holders = [n for n, r in roles.items() if r == role]
        if len(holders) != 1:
            raise RecordError(
                f"{meta_path}: exactly one actor must have role {role!r}, found {holders or 'none'}"
            )
    outcome = dict(meta.get("outcome") or {})
    for key, when in outcome.items():
        if key not in ("agreement", "breakdown"):
            raise RecordError(
                f"{meta_path}: outcome.{key} is not an outcome; allowed: agreement, breakdown"
            )
        if when is not None and not (isinstance(when, str) and len(when) == 7 and when[4] == "-"):
            raise RecordError(
                f"{meta_path}: outcome.{key} = {when!r} must be a month as YYYY-MM, or null (did not happen)"
            )
    start = dict(meta.get("start") or {})
    for key in start:
        if key not in STATE_VARS:
            raise RecordError(
                f"{meta_path}: start.{key} is not a state variable; allowed: {', '.join(STATE_VARS)}"
            )

    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for col in REQUIRED:
            if col not in header:
                raise RecordError(
                    f"{path}: the column {col!r} is missing; required: {', '.join(REQUIRED)}"
                )
        rows = list(reader)
    if not rows:
        raise RecordError(f"{path}: the record has no rows")

    actors = tuple(roles)
    periods: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    flags: dict[str, tuple[int, int]] = {}
    for k, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{path.name} row {k}"
        period, actor = (row.get("period") or "").strip(), (row.get("actor") or "").strip()
        if (
            len(period) != 7
            or period[4] != "-"
            or not (period[:4].isdigit() and period[5:].isdigit())
            or not (1 <= int(period[5:]) <= 12)
        ):
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
        if flag not in ("0", "1"):
            raise RecordError(f"{where}: flagged = {flag!r} must be 0 or 1")
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
            if period in periods:
                raise RecordError(
                    f"{where}: the rows of {period} are not together; rows must be in month order"
                )
            if periods and _next_month(periods[-1]) != period:
                raise RecordError(
                    f"{where}: {period} follows {periods[-1]}; the month {_next_month(periods[-1])} is missing"
                )
            periods.append(period)
        if period in flags and flags[period][0] != int(flag):
            raise RecordError(
                f"{where}: flagged = {flag} but row {flags[period][1]} has {flags[period][0]} for {period}; "
                "a month's flag is the same on every actor's row"
            )
        flags.setdefault(period, (int(flag), k))
    for period in periods:
        for actor in actors:
            if (period, actor) not in seen:
                raise RecordError(
                    f"{path.name}: {actor} has no row for {period} (one row per actor per month)"
                )
    code = {a: i for i, a in enumerate(ACTION_NAMES)}
    actions = np.empty((len(periods), len(actors)), dtype=np.int64)
    for row in rows:
        actions[periods.index(row["period"].strip()), actors.index(row["actor"].strip())] = code[
            row["action"].strip()
        ]
    flagged = np.array([flags[p][0] == 1 for p in periods])
    return Record(
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
        start={k: float(v) for k, v in start.items()},
        regime=str(meta.get("regime") or "denuclearization_first"),
        outcome=outcome,
    )


def _next_month(period: str) -> str:
    y, m = int(period[:4]), int(period[5:])
    return f"{y + (m == 12)}-{1 if m == 12 else m + 1:02d}"


def month_after(period: str, k: int) -> str:
    """The month ``k`` months after ``period``.

    Example:
        >>> month_after("2018-11", 3)
        '2019-02'
    """
    for _ in range(k):
        period = _next_month(period)
    return period


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
        "start": dict(start or {}),
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


def reliability(name: str = "us_dprk_2018_2019"):
    """Agreement of each recoding with the first coding, per actor: Cohen's kappa and
    the share agreeing, on actor-months (the record's actions) and on event codes.

    Reads ``<name>.codes.csv`` beside the packaged record: one row per event x actor
    with each coder's code (``coder_a``, ``coder_b``, …) and the ``resolved`` code the
    record uses; month actions follow from the codes by :func:`month_actions`.

    Example:
        >>> t = reliability()
        >>> sorted(t["coder"].unique()), bool((t.query("level == 'month'")["kappa"] == 1.0).all())
        (['coder_b', 'coder_c'], True)
    """
    import pandas as pd

    record = load_record(name)
    codes = pd.read_csv(RECORD_DIR / f"{name}.codes.csv")
    events = pd.read_csv(RECORD_DIR / f"{name}.events.csv")
    periods = dict(zip(events["event_id"], events["period"]))
    coders = [c for c in codes.columns if c.startswith("coder_")]
    months = [(p, a) for p in record.periods for a in record.actors]

    def actions(col):
        got = month_actions(zip(codes["event_id"], codes["actor"], codes[col]), periods)
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
                         "agree": float(np.mean(ev[coders[0]] == ev[coder])),
                         "kappa": cohen_kappa(ev[coders[0]], ev[coder])})  # fmt: skip
    return pd.DataFrame(rows)
