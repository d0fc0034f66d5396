"""Hydra side of the configuration: the structured schema and validation.

The schema :class:`AppConfig` extends :class:`sim.model.params.ModelConfig` (every
model parameter, default and range) with what a run of the app needs (seeds,
engine, …). It is registered in Hydra's ConfigStore as ``stalemate_schema``;
``sim/configs/config.yaml`` builds on it. :class:`sim.hydra.callbacks.ValidateConfig`
checks the composed config before Hydra creates any directory.

Example:
    >>> app, model = to_app_config(AppConfig(seeds=10, relief=0.5))
    >>> app.seeds, model.relief
    (10, 0.5)
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.engines.inputs import check_config, check_events
from sim.model.params import ModelConfig, default_actors, make_config
from sim.model.validation import ConfigError, Once, param, validate

ENGINES = ("auto", "batch", "mesa")
#: Where each run's uncertain parameters come from (docs/calibration.md §7).
UNCERTAINTY = ("none", "posterior", "prior")
#: The largest seed (seeds are int64 and >= 0).
MAX_SEED = 2**63 - 1


@dataclass
class AppConfig(ModelConfig):
    """A run of the ``stalemate`` app: a scenario, many seeds, where results go."""

    name: str = param(
        "custom",
        doc="scenario name (set by the scenario file)",
        check=lambda k, v: check_name(k, v),
    )
    description: str = param("", doc="one line on the scenario")
    seeds: int = param(100, 1, 10_000_000, "number of runs (seeds seed .. seed+seeds-1)")
    seed: int = param(0, 0, 2**63 - 1, "first seed")
    engine: str = param(
        "auto",
        doc="auto (the batch engine) | batch | mesa: the engines give identical results",
        choices=ENGINES,
    )
    narrate: bool | None = param(
        None, doc="tell one run round by round (default: single runs only)"
    )
    trajectories: bool | None = param(
        None,
        doc="record states and actions round by round (default: single runs up to 1,000 seeds)",
    )
    processes: str = param(
        "auto",
        doc="cores for the batch engine: auto (every core) or a number",
        check=lambda k, v: check_processes(v),
    )
    progress: bool = param(True, doc="show progress bars")
    uncertainty: str = param(
        "none",
        doc="none | posterior | prior: each run draws the fitted parameters from the posterior "
        "or from their priors, by its seed (docs/calibration.md)",
        choices=UNCERTAINTY,
    )
    posterior: str = param(
        "us_dprk_2018_2019",
        doc="the posterior uncertainty= draws from: a packaged name or a stalemate-fit posterior.parquet",
    )
    points: str = param(
        "", doc="(set by the stalemate sweeper) JSON list of grid points for this job"
    )
    # typed loosely for Hydra so `+actors.JPN={role: ally}` can add a state on the
    # command line; every actor is still checked by sim.model.params.make_config
    actors: dict[str, Any] = param(default_actors, doc="the states at the table")

    def __validate__(self, prefix: str = "") -> None:
        """The run settings together (the model's own rules are the model's: make_config)."""
        if self.seed + self.seeds - 1 > MAX_SEED:
            raise ConfigError(
                f"seed = {self.seed} with seeds = {self.seeds} reaches seed "
                f"{self.seed + self.seeds - 1}, past the largest allowed seed {MAX_SEED}"
            )


MODEL_FIELDS = tuple(f.name for f in fields(ModelConfig))
#: Settings of a run that are not model parameters (they cannot be swept).
APP_ONLY = tuple(f.name for f in fields(AppConfig) if f.name not in MODEL_FIELDS)
#: Model parameters whose validity depends on their own value only (plain numbers with a
#: range): a sweep checks each of their values once, not at every grid point.
INDEPENDENT = tuple(
    f.name for f in fields(ModelConfig) if f.metadata.get("kind") in ("run", "state")
)
#: Config groups recorded as columns of the runs table (the option chosen).
GROUPS = ("scenario", "actors", "policy")

ConfigStore.instance().store(name="stalemate_schema", node=AppConfig)


def _without_hydra(config: DictConfig) -> dict:
    return {
        k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        for k, v in config.items_ex(resolve=False)
        if k != "hydra"
    }


def to_app_config(cfg: DictConfig | AppConfig) -> tuple[AppConfig, ModelConfig]:
    """Validate a composed config; return it and the model config it describes.

    A command meets the same config more than once (its pre-flight check, Hydra's
    callback, the run itself): it is typed and validated the first time, and later
    calls with the same values get a copy of that result (:data:`VALIDATIONS` counts
    the validations done). A config validated by an earlier command is loaded from disk
    (:func:`sim.hydra.compose_cache.kept_validation`, keyed by its values and the code).

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    if isinstance(cfg, AppConfig):
        return _validated(cfg)
    values = _without_hydra(cfg)

    def typed_and_validated() -> tuple[AppConfig, ModelConfig]:
        made = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(AppConfig), values))
        assert isinstance(made, AppConfig)
        return _validated(made)

    def kept_or_validated() -> tuple[AppConfig, ModelConfig]:
        from sim.hydra.compose_cache import kept_validation

        return kept_validation(values, typed_and_validated)

    return copy.deepcopy(_DONE(values, kept_or_validated))  # the caller may change its copy


#: Validated configs by their values (see :func:`to_app_config`).
_DONE = Once()
#: How many configs this process has validated (a test checks a run validates once).
VALIDATIONS = [0]


#: What a name that becomes a directory may look like: one safe path component.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def check_name(key: str, value: str) -> None:
    """``value`` must be one safe path component (it names a directory or a file).

    Example:
        >>> check_name("name", "../outside")
        Traceback (most recent call last):
        ...
        sim.model.validation.ConfigError: name = '../outside' must be one safe path component: letters, digits, '_', '-' or '.', starting with a letter or digit, at most 100 characters
    """
    if not isinstance(value, str) or not SAFE_NAME.fullmatch(value) or ".." in value:
        raise ConfigError(
            f"{key} = {value!r} must be one safe path component: letters, digits, '_', '-' or '.', "
            "starting with a letter or digit, at most 100 characters"
        )


def check_processes(value) -> str:
    """``processes`` is ``auto`` or a whole number of cores >= 1; returned as given."""
    text = str(value).strip()
    if text != "auto" and not (text.isdigit() and 1 <= int(text) <= 4096):
        raise ConfigError(
            f"processes = {value!r} must be 'auto' (every core) or a whole number from 1 to 4096"
        )
    return text


def _validated(app: AppConfig) -> tuple[AppConfig, ModelConfig]:
    """Check the run settings and the model parameters of ``app``; return both, typed."""
    VALIDATIONS[0] += 1
    validate(app, only=APP_ONLY)  # the run settings; the model's fields by the model:
    model = make_config(**{k: getattr(app, k) for k in MODEL_FIELDS})
    check_config(model)  # actor names that can stand in column names
    for k in MODEL_FIELDS:  # validated and typed (assurance=1 -> 1.0, actors as ActorConfig)
        setattr(app, k, getattr(model, k))
    unc = run_uncertainty(app)
    if unc is not None:  # every drawn key must be a parameter of this model
        from sim.model.compile import compile_configs, slot

        structure = compile_configs([model]).structure
        for key in unc.keys:
            slot(structure, key)
    return app, model


@functools.lru_cache(maxsize=16)
def _uncertainty(kind: str, posterior: str):
    from sim.model.uncertainty import Uncertainty
    from sim.report.io import read_posterior

    post = read_posterior(posterior)
    if kind == "posterior":
        return post
    return Uncertainty.from_priors(post.keys)


def run_uncertainty(app: AppConfig):
    """What each run of ``app`` draws (:class:`sim.model.uncertainty.Uncertainty`), or None.

    ``uncertainty=posterior`` draws from the posterior named by ``posterior``;
    ``uncertainty=prior`` draws the same parameters from their weak priors.

    Raises:
        ConfigError: for a posterior that does not exist.
    """
    if app.uncertainty == "none":
        return None
    return _uncertainty(app.uncertainty, app.posterior)


def parse_point(point: list[str]) -> list[tuple[str, Any]]:
    """Typed (key, value) pairs of a grid point given as Hydra ``key=value`` overrides.

    Example:
        >>> parse_point(["assurance=0.5", "regime=relief_first"])
        [('assurance', 0.5), ('regime', 'relief_first')]
    """
    return [parse_override(o) for o in point]


@functools.lru_cache(maxsize=4096)
def _parse_override(text: str) -> tuple[str, Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (o,) = OverridesParser.create().parse_overrides([text])
    value = o.value()
    if isinstance(value, float):  # range() steps leave float noise: 0.30000000000000004
        value = round(value, 12)
    return o.key_or_group, value


def parse_override(text: str) -> tuple[str, Any]:
    """One ``key=value`` override as a typed pair, parsed by Hydra's grammar.

    Grids repeat each value many times (a 21 x 21 map has 42 distinct overrides
    in 882), so parses are cached; each caller gets its own copy of the value.
    """
    key, value = _parse_override(text)
    return key, copy.deepcopy(value)


def apply_point(app: AppConfig, point: list[str]) -> tuple[AppConfig, ModelConfig]:
    """The app config with a grid point's values set, validated.

    Keys may be nested (``actors.DPRK.concede.package=5``).

    Raises:
        ConfigError: for an unknown key or a value that is not allowed.
    """
    # a shallow copy: only the containers on an override's path are copied (as plain
    # dicts) before they change, so a top-level key costs no deep copy of the actors
    data = {f.name: getattr(app, f.name) for f in fields(app)}
    unc = run_uncertainty(app)
    for key, value in parse_point(point):
        if key.lstrip("+") == "events":
            check_events(value)  # before the schema fills in what an event leaves out
        if unc is not None and key in unc.keys:
            raise ConfigError(
                f"{key} is swept and also drawn by uncertainty={app.uncertainty}; "
                f"sweep another key or set uncertainty=none"
            )
        *path, last = key.split(".")
        node = data
        for i, part in enumerate(path):
            # top-level keys, actor names and actor fields are fixed; weights and effects are open
            closed = node is data or (i in (1, 2) and path[0] == "actors")
            if isinstance(node, dict) and part not in node and not closed:
                node[part] = {}
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(
                    f"{'.'.join(path[: i + 1])} is not a known key (in {key}={value!r})"
                )
            child = node[part]
            node[part] = asdict(child) if is_dataclass(child) else (
                dict(child) if isinstance(child, dict) else child
            )  # fmt: skip
            node = node[part]
        closed = node is data or (len(path) == 2 and path[0] == "actors")
        if not isinstance(node, dict):
            raise ConfigError(
                f"{key} is not a known key: {'.'.join(path)} is a single value, not a group of keys"
            )
        if closed and last not in node:
            raise ConfigError(f"{key} is not a known key; allowed: {', '.join(sorted(node))}")
        node[last] = value
    return _validated(AppConfig(**data))


def lookup(app: AppConfig, key: str) -> Any:
    """The value of a dotted key in a config (``actors.DPRK.trust``)."""
    node: Any = app
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def validate_point(cfg: DictConfig | AppConfig, points: list[list[str]]) -> None:
    """Validate every grid point of a sweep against a composed config (raises ConfigError).

    A point of one :data:`INDEPENDENT` key is checked through :func:`typed_alone`: the
    job that later runs it in this process (a local sweep) is handed the typed value."""
    app, _ = to_app_config(cfg)
    values = app_key(app)
    for point in points:
        if len(point) == 1 and point[0].partition("=")[0] in INDEPENDENT:
            typed_alone(app, point[0], values)
        else:
            apply_point(app, point)


def app_key(app: AppConfig) -> str:
    """The values of an app config as one string (what :func:`typed_alone` keys on)."""
    import json

    return json.dumps(asdict(app), sort_keys=True, default=repr)


#: (app config's values, override) -> (key, typed value) of an INDEPENDENT key set alone.
_ALONE = Once(4096)


def typed_alone(app: AppConfig, override: str, values: str | None = None) -> tuple[str, Any]:
    """The key and validated, typed value of one override of an :data:`INDEPENDENT` key
    applied alone to ``app`` (:func:`apply_point`), kept by the app's values
    (``values``: :func:`app_key` of it, if known) and the override: a sweep's check and
    its job in the same process validate each value once.

    Raises:
        ConfigError: the value is not allowed.
    """

    def typed() -> tuple[str, Any]:
        (key, _), one = parse_point([override])[0], apply_point(app, [override])[1]
        return key, getattr(one, key)

    key, value = _ALONE([values if values is not None else app_key(app), override], typed)
    return key, copy.deepcopy(value)
