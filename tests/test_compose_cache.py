"""Compositions kept on disk (sim.hydra.compose_cache): the same as composing, and never
stale — a changed config file, override, source or ConfigStore entry is composed anew."""

from __future__ import annotations

import pickle
import shutil

import pytest
from helpers import COUNTED_RUN
from hydra import initialize_config_dir, initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

import sim.hydra.schema  # noqa: F401 - registers the schema config.yaml builds on
from sim.hydra import compose_cache as cc
from sim.hydra.compose import CONFIG_DIR, CONFIG_MODULE, JOB_NAME, hydra_lock


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("STALEMATE_COMPOSE_CACHE", str(folder))
    monkeypatch.setattr(cc, "_tree_hashes", {})  # a new command: files are read again
    return folder


class Counted:
    """A loader's real ``load_configuration``, counting the compositions it does."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, loader, *args):
        self.calls.append(list(args[1]))
        return _composed(loader, *args)


def _composed(loader, *args):
    """Hydra's own composition (not the copies sim.hydra.compose.compose_once hands out)."""
    real = type(loader).load_configuration
    return getattr(real, "__wrapped__", real)(loader, *args)


def _same(a, b) -> None:
    """The same values, interpolations, types and flags (not resolved: ``${now:}`` ticks)."""
    assert OmegaConf.to_yaml(a) == OmegaConf.to_yaml(b)
    assert OmegaConf.to_container(a, resolve=False) == OmegaConf.to_container(b, resolve=False)
    for x, y in ((a, b), (a.hydra, b.hydra), (a.actors, b.actors)):
        assert OmegaConf.is_struct(x) == OmegaConf.is_struct(y)
        assert OmegaConf.is_readonly(x) == OmegaConf.is_readonly(y)
        assert OmegaConf.get_type(x) is OmegaConf.get_type(y)
    assert pickle.loads(pickle.dumps(a)).keys() == a.keys()


def _load(loader, overrides, mode=RunMode.RUN, counted=None, validate=True):
    args = ("config", overrides, mode, True, validate)
    return cc.load_or_compose(counted or Counted(), loader, args)


def test_a_kept_composition_is_the_composition(cache):
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        counted = Counted()
        for overrides, mode in [
            (["seeds=3", "hydra.run.dir=/tmp/x/a"], RunMode.RUN),
            (["+sweep=stalemate_map", "hydra.sweep.dir=rel/dir", "hydra.mode=MULTIRUN"], RunMode.MULTIRUN),
        ]:  # fmt: skip
            first = _load(loader, overrides, mode, counted)
            again = _load(loader, overrides, mode, counted)
            direct = _composed(loader, "config", overrides, mode)
            _same(first, direct)
            _same(again, direct)
        assert len(counted.calls) == 2  # composed once each, then loaded
        # another output directory: the same composition with its own directory
        other = _load(loader, ["seeds=3", "hydra.run.dir=/tmp/y/.b.partial"], counted=counted)
        assert len(counted.calls) == 2
        direct = _composed(
            loader, "config", ["seeds=3", "hydra.run.dir=/tmp/y/.b.partial"], RunMode.RUN
        )
        _same(other, direct)
        assert other.hydra.run.dir == "/tmp/y/.b.partial"
        assert list(other.hydra.overrides.hydra) == ["hydra.run.dir=/tmp/y/.b.partial"]


def test_a_changed_override_is_composed_anew(cache):
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        counted = Counted()
        assert _load(loader, ["seeds=3"], counted=counted).seeds == 3
        assert _load(loader, ["seeds=4"], counted=counted).seeds == 4
        assert _load(loader, ["seeds=4"], RunMode.MULTIRUN, counted).seeds == 4
        assert _load(loader, ["seeds=4"], RunMode.MULTIRUN, counted, validate=False).seeds == 4
        assert len(counted.calls) == 4
        # a value that is not a plain string is part of the key, not a placeholder
        for value in ("123", "'/tmp/a b'", "${hydra.job.name}"):
            assert cc.normalise([f"hydra.run.dir={value}"])[1] == {}
            _load(loader, [f"hydra.run.dir={value}"], counted=counted)
        assert len(counted.calls) == 7


def test_a_changed_config_file_is_composed_anew(cache, tmp_path):
    configs = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, configs)
    scenario = configs / "scenario" / "baseline_2018.yaml"
    with hydra_lock, initialize_config_dir(str(configs), JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        counted = Counted()
        before = _load(loader, ["seeds=3"], counted=counted)
        _load(loader, ["seeds=3"], counted=counted)
        assert len(counted.calls) == 1
        text = scenario.read_text()
        assert 'description: "2018' in text
        scenario.write_text(text.replace('description: "2018', 'description: "Edited 2018', 1))
        cc._tree_hashes.clear()  # the next command reads the files again
        after = _load(loader, ["seeds=3"], counted=counted)
        assert len(counted.calls) == 2
        assert after.description != before.description
        assert after.description.startswith("Edited")


def test_changed_sources_or_config_store_entries_are_other_keys(cache):
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        args = ("config", ["seeds=3"], RunMode.RUN, True, True)
        key = cc._key(loader, args, ["seeds=3"])
        assert cc._key(loader, args, ["seeds=3"]) == key
        # an edited module of the package (the schema, a plugin): another key
        for root_suffix in [k for k in cc._tree_hashes if k[1] == ".py"]:
            saved = cc._tree_hashes[root_suffix]
            cc._tree_hashes[root_suffix] = "edited"
            assert cc._key(loader, args, ["seeds=3"]) != key
            cc._tree_hashes[root_suffix] = saved
        assert cc._key(loader, args, ["seeds=3"]) == key
        # a schema registered since: another key
        ConfigStore.instance().store(group="stalemate_test_group", name="x", node={"a": 1})
        try:
            assert cc._key(loader, args, ["seeds=3"]) != key
        finally:
            ConfigStore.instance().repo.pop("stalemate_test_group", None)
        assert (
            cc._key(loader, ("config", ["seeds=3"], RunMode.MULTIRUN, True, True), ["seeds=3"])
            != key
        )


def test_the_working_directory_is_this_ones_and_the_job_name_is_keyed(cache, tmp_path, monkeypatch):
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        counted = Counted()
        _load(loader, ["seeds=3"], counted=counted)
        monkeypatch.chdir(tmp_path)
        moved = _load(loader, ["seeds=3"], counted=counted)
        assert len(counted.calls) == 1 and moved.hydra.runtime.cwd == str(tmp_path)
        _same(moved, _composed(loader, "config", ["seeds=3"], RunMode.RUN, True, True))
    with hydra_lock, initialize_config_module(CONFIG_MODULE, "other_job", version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        assert _load(loader, ["seeds=3"], counted=counted).hydra.job.name == "other_job"
        assert len(counted.calls) == 2


def test_off_unreadable_or_failing_compositions_are_composed(cache, monkeypatch):
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        counted = Counted()
        _load(loader, ["seeds=5"], counted=counted)
        (kept,) = cache.glob("*.pickle")
        kept.write_bytes(b"not a pickle")  # damaged: composed again, and kept again
        assert _load(loader, ["seeds=5"], counted=counted).seeds == 5
        assert len(counted.calls) == 2
        assert _load(loader, ["seeds=5"], counted=counted).seeds == 5
        assert len(counted.calls) == 2
        with pytest.raises(Exception, match="seeds"):  # a failure is not kept
            _load(loader, ["seeds=many"], counted=counted)
        with pytest.raises(Exception, match="seeds"):
            _load(loader, ["seeds=many"], counted=counted)
        assert len(counted.calls) == 4
        monkeypatch.setenv("STALEMATE_COMPOSE_CACHE", "0")
        _load(loader, ["seeds=5"], counted=counted)
        assert len(counted.calls) == 5
    assert not list(cache.glob(".tmp-*"))  # written whole or not at all


def test_the_cache_is_pruned(cache):
    cache.mkdir()
    for k in range(5):
        (cache / f"{k}.pickle").write_bytes(b"x")
    cc._prune(cache, keep=3)
    assert len(list(cache.glob("*.pickle"))) == 3


@pytest.mark.slow
def test_a_command_composed_before_is_loaded_and_writes_the_same(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "STALEMATE_COMPOSE_CACHE": str(tmp_path / "compose")}
    saved = {}
    for name, composed in (("a", 2), ("b", 0)):
        done = subprocess.run(
            [sys.executable, "-c", COUNTED_RUN, f"hydra.run.dir={tmp_path / name}"],
            capture_output=True, text=True, cwd=tmp_path, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert f"COMPOSED {composed}" in done.stdout, done.stdout[-300:]
        hydra_dir = tmp_path / name / ".hydra"
        saved[name] = {
            f: (hydra_dir / f)
            .read_text()
            .replace(str(tmp_path / f".{name}.partial"), "PARTIAL")  # where it was built
            .replace(str(tmp_path / name), "DIR")
            for f in ("config.yaml", "hydra.yaml", "overrides.yaml")
        }
    assert saved["a"] == saved["b"]


# -------------------------------------------------------------- validations kept


def test_a_kept_validation_is_the_validation_and_never_stale(cache, monkeypatch):
    import os

    import sim
    from sim.hydra import schema
    from sim.hydra.compose import compose
    from sim.model.validation import ConfigError

    def fresh(cfg):  # a new command: nothing validated in this process yet
        monkeypatch.setattr(schema, "_DONE", schema.Once())
        return schema.to_app_config(cfg)

    cfg = OmegaConf.create(dataclasses_asdict(compose(["seeds=3", "relief=0.3"])))
    drawn = OmegaConf.create(dataclasses_asdict(compose(["seeds=3", "uncertainty=prior"])))
    shutil.rmtree(cache, ignore_errors=True)  # what composing them kept
    count = schema.VALIDATIONS[0]
    first = fresh(cfg)
    again = fresh(cfg)
    assert schema.VALIDATIONS[0] == count + 1  # the second was loaded
    assert again == first and repr(again) == repr(first)
    assert again[0] is not first[0]
    cfg.relief = 0.4  # other values: validated
    assert fresh(cfg)[1].relief == 0.4 and schema.VALIDATIONS[0] == count + 2
    # edited sources (a check, a rule): validated again
    root = (os.path.dirname(sim.__file__), ".py")
    cc._tree_hashes[root] = "edited"
    fresh(cfg)
    assert schema.VALIDATIONS[0] == count + 3
    # a refusal is not kept
    cfg.relief = 1.5
    for _ in range(2):
        with pytest.raises(ConfigError, match="relief"):
            fresh(cfg)
    # what reads a posterior's file is not kept
    before = schema.VALIDATIONS[0]
    fresh(drawn)
    fresh(drawn)
    assert schema.VALIDATIONS[0] == before + 2


def dataclasses_asdict(app):
    from dataclasses import asdict

    return asdict(app)


def test_what_resolvers_returned_is_not_kept(cache):
    """Hydra's ${now:} caches its value in the config: a kept one would date every later
    sweep's directory by the first (which then read as finished: nothing run)."""
    with hydra_lock, initialize_config_module(CONFIG_MODULE, JOB_NAME, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        first = _load(loader, ["+sweep=demo_map", "hydra.mode=MULTIRUN"], RunMode.MULTIRUN)
        assert any(OmegaConf.get_cache(first).values())  # it was resolved, and cached
        (kept,) = cache.glob("*.pickle")
        assert not any(OmegaConf.get_cache(pickle.loads(kept.read_bytes())).values())
        with open(kept, "wb") as f:  # a file kept before the rule, with a resolved date in it
            pickle.dump(first, f)
        counted = Counted()
        again = _load(loader, ["+sweep=demo_map", "hydra.mode=MULTIRUN"], RunMode.MULTIRUN, counted)
        assert counted.calls == []  # loaded, not composed
        assert not any(OmegaConf.get_cache(again).values())
        _same(first, again)
