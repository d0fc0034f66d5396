"""What a policy search is made of: levers, uncertainties, objectives — as config, checked.

A **lever** is what the principal controls: any key of the model's config
(``assurance``, ``regime``, ``detection_response``, ``actors.USA.policy``,
``actors.USA.grit_period`` …) with a range (``lo``/``hi``, whole numbers with
``integer: true``) or a list of ``choices``. Every end of a range and every
choice is checked by building the model's config with it
(:func:`sim.model.params.make_config`), so a lever can be any key the model
accepts, with the model's own limits.

An **uncertainty** is what nobody knows: a numeric per-run parameter (any key
:func:`sim.model.compile.slot` resolves — a per-run scalar, a starting value, an
actor's trust or utility weight or effect) with a stated range, sampled by a
Latin hypercube; and/or the draws of a posterior (``posterior``, e.g. the fitted
``us_dprk_2018_2019``), one draw per scenario, picked by the scenario's seed as
``uncertainty=posterior`` does.

An **objective** is a per-run metric (:data:`METRICS`) summarised over the
scenarios by a **robustness** statistic: ``mean`` (for the outcome shares, the
probability over what we do not know) or a percentile ``pNN`` (``p90`` of relief
given: what the package costs in the worst tenth of the worlds).

Example:
    >>> spec = PolicySearch(name="toy", levers=[LeverSpec("relief", 0.0, 1.0)],
    ...                     uncertainties=[RangeSpec("detect_prob", 0.1, 0.6)],
    ...                     objectives=[ObjectiveSpec("p_agreement"), ObjectiveSpec("relief_given", "p90")])
    >>> checked = check(spec)
    >>> [o.column for o in checked.objectives], checked.objectives[0].sense
    (['p_agreement', 'relief_given_p90'], 'max')
    >>> check(PolicySearch(name="toy", levers=[LeverSpec("relief", 0.0, 1.5)]))
    Traceback (most recent call last):
    ...
    sim.model.validation.ConfigError: policy_search.levers[0] (relief): hi = 1.5: relief = 1.5 is outside the allowed range [0, 1]
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from omegaconf import MISSING

from sim.hydra.schema import check_name, check_processes
from sim.model.validation import ConfigError, Once, param, suggest, validate

#: Stated limits of a search: candidates per generation, generations, scenarios per
#: candidate (and for the re-evaluation), chosen policies explained; and the most runs
#: (population x generations x scenarios) a search plays unless ``max_runs`` allows more.
#: A generation's metrics take 5 x population x scenarios numbers (at most 400 MB).
MAX_POPULATION, MAX_GENERATIONS, MAX_SCENARIOS, MAX_DISCOVER = 1_000, 10_000, 10_000, 10
MAX_RUNS = 100_000_000

#: Per-run metrics an objective can summarise: name -> (sense, what it is).
METRICS: dict[str, tuple[str, str]] = {
    "p_agreement": ("max", "the run ends in agreement (1) or not (0)"),
    "p_breakdown": ("min", "the run ends in breakdown (1) or not (0)"),
    "relief_given": ("min", "nominal sanctions relief on the table when the run ends"),
    "undeclared_end": ("min", "undeclared (hidden) capability when the run ends"),
    "rounds_to_agreement": (
        "min",
        "rounds until agreement; a run without agreement counts the whole horizon",
    ),
}
#: Metrics that are 0/1 per run: their only robustness statistic is the mean (a share).
BINARY = ("p_agreement", "p_breakdown")
_PERCENTILE = re.compile(r"p([1-9][0-9]?)")


@dataclass
class LeverSpec:
    """A policy lever: a model config key and the values the search may give it (a range
    ``lo``/``hi``, whole numbers with ``integer``, or a list of ``choices``). Whether the
    key and its values are the model's is checked against the model (:func:`check`)."""

    key: str = MISSING
    lo: float | None = None
    hi: float | None = None
    choices: list[str] = field(default_factory=list)
    integer: bool = False
    doc: str = ""

    def __validate__(self, prefix: str = "") -> None:
        where = f"{prefix.rstrip('.')} ({self.key})"
        if self.choices:
            if self.lo is not None or self.hi is not None or self.integer:
                raise ConfigError(f"{where}: give either choices or lo/hi, not both")
            values = list(self.choices)
            if len(set(map(str, values))) != len(values) or len(values) < 2:
                raise ConfigError(
                    f"{where}: choices = {values} must be at least two distinct values"
                )
            return
        if self.lo is None or self.hi is None:
            raise ConfigError(f"{where}: give lo and hi (a range) or choices (a list)")
        _below(where, self.lo, self.hi)
        if self.integer and (self.lo != int(self.lo) or self.hi != int(self.hi)):
            raise ConfigError(
                f"{where}: integer lever needs whole lo and hi, got {self.lo}, {self.hi}"
            )


@dataclass
class RangeSpec:
    """An uncertain per-run parameter, uniform on [lo, hi] (Latin hypercube)."""

    key: str = MISSING
    lo: float = MISSING
    hi: float = MISSING
    doc: str = ""

    def __validate__(self, prefix: str = "") -> None:
        _below(f"{prefix.rstrip('.')} ({self.key})", self.lo, self.hi)


def _below(where: str, lo, hi) -> None:
    if not lo < hi:
        raise ConfigError(f"{where}: lo = {lo} must be below hi = {hi}")


def _robustness(key: str, value: str) -> None:
    if value != "mean" and not _PERCENTILE.fullmatch(str(value)):
        raise ConfigError(
            f"{key} = {value!r} is not allowed; give mean or a percentile p1 … p99 (e.g. p90)"
        )


@dataclass
class ObjectiveSpec:
    """An objective: a metric of :data:`METRICS`, its robustness statistic over the
    scenarios (``mean`` or ``pNN``) and the ε of its ε-box archive (in the metric's
    own units; rounds are divided by the horizon)."""

    metric: str = param(MISSING, doc="a per-run metric", choices=tuple(METRICS))
    robustness: str = param(
        "mean", doc="mean, or a percentile pNN over the scenarios", check=_robustness
    )
    epsilon: float = param(0.01, 0, 1, "the ε of its ε-box archive", strict=True)

    def __validate__(self, prefix: str = "") -> None:
        if self.metric in BINARY and self.robustness != "mean":
            raise ConfigError(
                f"{prefix}robustness = {self.robustness!r}: {self.metric} is 0 or 1 per run, "
                "its robustness is its mean (a share)"
            )


@dataclass
class PolicySearch:
    """A ``policy_search/`` preset: the whole question, as data."""

    name: str = param(MISSING, doc="names the results' folder", check=check_name)
    description: str = ""
    #: ``stalemate`` overrides of the model the levers act on (scenario, actors, …).
    base: list[str] = field(default_factory=list)
    levers: list[LeverSpec] = param(
        list, doc="what the principal controls: key with lo, hi or choices", min_items=1
    )
    uncertainties: list[RangeSpec] = field(default_factory=list)
    #: posterior draws as a further uncertainty: a packaged name, a ``posterior.parquet``
    #: of ``stalemate-fit``, or ``""`` for none.
    posterior: str = ""
    objectives: list[ObjectiveSpec] = param(
        lambda: [
            ObjectiveSpec("p_agreement"),
            ObjectiveSpec("p_breakdown"),
            ObjectiveSpec("relief_given", "p90"),
            ObjectiveSpec("undeclared_end", "p90"),
        ],
        doc="at least two metrics of METRICS, each with its robustness",
        min_items=2,
    )
    scenarios: int = param(
        256,
        2,
        MAX_SCENARIOS,
        "uncertainty scenarios every candidate is scored on (the same for all: common random numbers)",
    )
    population: int = param(48, 4, MAX_POPULATION, "candidate policies per generation")
    generations: int = param(60, 1, MAX_GENERATIONS, "generations of NSGA-II")
    seed: int = param(0, 0, 10_000, "seed of the search and of its scenarios")
    reevaluate: int = param(
        1024,
        2,
        MAX_SCENARIOS,
        "fresh scenarios for the out-of-sample re-evaluation of the Pareto set",
    )
    discover: int = param(
        2, 0, MAX_DISCOVER, "chosen policies whose failures scenario discovery explains (0: none)"
    )

    def __validate__(self, prefix: str = "") -> None:
        """A key is one lever or one uncertainty; an objective's column appears once."""
        seen: dict[str, str] = {}
        keys = [("levers", i, lv.key) for i, lv in enumerate(self.levers)]
        keys += [("uncertainties", i, rg.key) for i, rg in enumerate(self.uncertainties)]
        for kind, i, key in keys:
            where = _where(kind, i, key)
            if key in seen:
                both = (
                    ": a key is a lever or an uncertainty, not both"
                    if kind == "uncertainties"
                    else "; give each key once"
                )
                raise ConfigError(f"{where}: {key} is already {seen[key]}{both}")
            seen[key] = f"lever {i}" if kind == "levers" else f"uncertainty {i}"
        columns = set()
        for i, ob in enumerate(self.objectives):
            column = Objective(ob.metric, ob.robustness, float(ob.epsilon)).column
            if column in columns:
                raise ConfigError(f"{prefix}objectives[{i}]: {column} is already an objective")
            columns.add(column)


@dataclass
class SearchApp:
    """The ``stalemate-search`` app: a preset and how to run it."""

    policy_search: PolicySearch = MISSING
    processes: str = param(
        "auto",
        doc="cores: auto (every core) or a number",
        check=lambda key, value: check_processes(value),
    )
    progress: bool = param(True, doc="show progress bars")
    #: the largest search run without asking: population x generations x scenarios runs.
    max_runs: int = param(MAX_RUNS, 1, None, "refuse a search of more runs than this")

    def __validate__(self, prefix: str = "") -> None:
        _check_runs(self.policy_search, self.max_runs)


def search_runs(spec: PolicySearch) -> int:
    """The most runs a search can play: population x generations x scenarios (a policy seen
    before is not played again, so it may play fewer)."""
    return spec.population * spec.generations * spec.scenarios


def check_size(spec: PolicySearch, max_runs: int = MAX_RUNS) -> None:
    """The preset's counts within their stated ranges and the search within ``max_runs``,
    counted before any work (the base model is not even composed).

    Example:
        >>> check_size(PolicySearch(name="big", levers=[LeverSpec("relief", 0.0, 1.0)],
        ...                         population=1000, generations=1000, scenarios=512))
        Traceback (most recent call last):
        ...
        sim.model.validation.ConfigError: the search plays up to 512,000,000 runs (population 1,000 x generations 1,000 x scenarios 512), more than max_runs = 100,000,000; make it smaller, or allow it with max_runs=512000000

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    validate(spec, "policy_search.")
    _check_runs(spec, max_runs)


def _check_runs(spec: PolicySearch, max_runs: int) -> None:
    runs = search_runs(spec)
    if runs > max_runs:
        raise ConfigError(
            f"the search plays up to {runs:,} runs (population {spec.population:,} x generations "
            f"{spec.generations:,} x scenarios {spec.scenarios:,}), more than max_runs = "
            f"{max_runs:,}; make it smaller, or allow it with max_runs={runs}"
        )


@dataclass(frozen=True)
class Objective:
    """A checked objective."""

    metric: str
    robustness: str
    epsilon: float

    @property
    def sense(self) -> str:
        return METRICS[self.metric][0]

    @property
    def column(self) -> str:
        """Its column in the tables: ``p_agreement``, ``relief_given_p90`` …"""
        return self.metric if self.robustness == "mean" else f"{self.metric}_{self.robustness}"


@dataclass(frozen=True)
class Lever:
    """A checked lever: ``kind`` is ``real``, ``integer`` or ``choice``."""

    key: str
    kind: str
    lo: float = 0.0
    hi: float = 0.0
    choices: tuple = ()

    def decode(self, u: float):
        """The lever's value at ``u`` in [0, 1] (the search's gene)."""
        if self.kind == "choice":
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        if self.kind == "integer":
            n = int(self.hi - self.lo) + 1
            return int(self.lo) + min(int(u * n), n - 1)
        return float(self.lo + u * (self.hi - self.lo))


@dataclass(frozen=True)
class Checked:
    """A preset after :func:`check`: levers, ranged uncertainties and objectives, typed."""

    spec: PolicySearch
    levers: tuple[Lever, ...]
    ranges: tuple[RangeSpec, ...]
    objectives: tuple[Objective, ...]

    @property
    def lever_keys(self) -> list[str]:
        return [lv.key for lv in self.levers]


def _where(kind: str, i: int, key: str) -> str:
    return f"policy_search.{kind}[{i}] ({key})"


def set_key(data: dict, key: str, value: Any) -> None:
    """Set a dotted key in a plain config dict (``actors.USA.grit_period``); the parent
    must exist, except below an actor's utility weights and effects, which are open."""
    *path, last = key.split(".")
    node = data
    for i, part in enumerate(path):
        if isinstance(node, dict) and part not in node and i >= 2 and path[0] == "actors":
            node[part] = {}
        if not isinstance(node, dict) or part not in node:
            allowed = sorted(node) if isinstance(node, dict) else []
            raise ConfigError(
                f"{'.'.join(path[: i + 1])} is not a known key{suggest(part, allowed)}"
            )
        node = node[part]
    if not isinstance(node, dict) or (last not in node and len(path) < 3):
        allowed = sorted(node) if isinstance(node, dict) else []
        raise ConfigError(f"{key} is not a known key{suggest(last, allowed)}")
    node[last] = value


def model_values(base: dict) -> dict:
    """The model's keyword arguments from a plain app-config dict."""
    from sim.model.params import MODEL_KEYS

    return {k: base[k] for k in MODEL_KEYS}


def build_config(base: dict, values: dict):
    """The model config of ``base`` (a plain dict of the app config) with ``values``
    (dotted key -> value) set, validated by the model."""
    import copy

    from sim.model.params import make_config

    data = copy.deepcopy(base)
    for key, value in values.items():
        set_key(data, key, value)
    return make_config(**model_values(data))


def base_dict(spec: PolicySearch) -> dict:
    """The base model as a plain dict: the ``stalemate`` config composed with
    ``spec.base`` (validated as the ``stalemate`` command would)."""
    from sim.hydra.compose import compose
    from sim.hydra.refuse import explain

    try:
        return asdict(compose(list(spec.base)))
    except Exception as err:  # noqa: BLE001 - Hydra's and the model's errors, in one line
        raise ConfigError(f"policy_search.base = {list(spec.base)}: {explain(err)}") from None


def check(spec: PolicySearch, base: dict | None = None, max_runs: int = MAX_RUNS) -> Checked:
    """Check a preset (its fields and size first, :func:`check_size`), then against the
    model: every end of a lever's range and every choice, every uncertainty's key and
    range, the posterior's keys. Return it typed. The same preset and base are checked
    once per process; a second call returns the first result.

    Raises:
        ConfigError: one line naming the key, the value and what is allowed.
    """

    def checked() -> Checked:
        check_size(spec, max_runs)
        return _check_against_model(spec, base if base is not None else base_dict(spec))

    return replace(_CHECKED([asdict(spec), base, max_runs], checked), spec=spec)


#: Presets checked in this process (see :func:`check`).
_CHECKED = Once(16)


def _check_against_model(spec: PolicySearch, base: dict) -> Checked:
    from sim.model.compile import compile_configs, slot

    levers = []
    seen = {lv.key: f"lever {i}" for i, lv in enumerate(spec.levers)}
    for i, lv in enumerate(spec.levers):
        where = _where("levers", i, lv.key)
        if lv.choices:
            values = list(lv.choices)
            lever = Lever(lv.key, "choice", choices=tuple(values))
        else:
            assert lv.lo is not None and lv.hi is not None  # (validated)
            lever = Lever(lv.key, "integer" if lv.integer else "real", float(lv.lo), float(lv.hi))
            values = [int(lv.lo), int(lv.hi)] if lv.integer else [float(lv.lo), float(lv.hi)]
        for end, value in zip(
            ("lo", "hi") if not lv.choices else [f"choice {v!r}" for v in values], values
        ):
            try:
                build_config(base, {lv.key: value})
            except ConfigError as err:
                raise ConfigError(f"{where}: {end} = {value}: {err}") from None
        levers.append(lever)
    structure = compile_configs([build_config(base, {})]).structure
    for i, rg in enumerate(spec.uncertainties):
        where = _where("uncertainties", i, rg.key)
        seen[rg.key] = f"uncertainty {i}"
        try:
            s = slot(structure, rg.key)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        lo_ok = s.bounds[0] is None or rg.lo >= s.bounds[0]
        hi_ok = s.bounds[1] is None or rg.hi <= s.bounds[1]
        if not (lo_ok and hi_ok):
            raise ConfigError(
                f"{where}: [{rg.lo}, {rg.hi}] is outside the allowed range "
                f"[{s.bounds[0]}, {s.bounds[1]}] of {rg.key}"
            )
    if spec.posterior:
        from sim.report.io import read_posterior

        post = read_posterior(spec.posterior)
        for key in post.keys:
            if key in seen:
                raise ConfigError(
                    f"policy_search.posterior = {spec.posterior!r} draws {key}, which is already "
                    f"{seen[key]}: drop it there or set posterior: ''"
                )
            slot(structure, key)
    objectives = [Objective(o.metric, o.robustness, float(o.epsilon)) for o in spec.objectives]
    return Checked(spec, tuple(levers), tuple(spec.uncertainties), tuple(objectives))
