"""The settings the stages decide by — `[link]`, `[triage]`, `[routing]`, `[deadlines]`, `[sessions]` — from the
unit's TOML file.

Each stage owns its settings as a plain frozen dataclass (`link/settings.py`, `triage/settings.py`, `route/settings.py`,
`config.CaseDeadlines`, `accounts/settings.py`): the pure cores take them as arguments and know nothing of files. This
module reads them, Splink-style: the file named by `TIPFUSION_CONFIG` and the environment (`TIPFUSION_LINK__THRESHOLD`,
`TIPFUSION_LINK__WEIGHTS__PHONE`; the environment wins), through pydantic-settings, which validates every value against
the dataclass's own types. A file says only what it changes: a mapping such as `[link.weights]` is merged key by key
over the defaults (the weight of `phone` alone), and a key the defaults do not have (a misspelt kind) is
refused, naming it. Every error names its key and where it came from:

    tipfusion.toml: [link] weights.phone: expected a number, got 'x'

Loading is lazy (pydantic costs a few tenths of a second to import): the commands that link, triage, route or
count deadlines ask for it, `tipfusion --help` does not. What a run used is saved with it (`link_runs.settings`,
the `triage.completed` and `route.completed` audit entries), and `tipfusion config show` prints the effective
values with where each came from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from functools import lru_cache
from typing import Any

from tipfusion.accounts.settings import SessionSettings
from tipfusion.config import CaseDeadlines, read_config_file
from tipfusion.errors import ConfigurationError
from tipfusion.link.settings import LinkSettings
from tipfusion.route.settings import RoutingSettings
from tipfusion.triage.settings import TriageSettings

SECTIONS: dict[str, type[Any]] = {
    "link": LinkSettings,
    "triage": TriageSettings,
    "routing": RoutingSettings,
    "deadlines": CaseDeadlines,
    "sessions": SessionSettings,
}
ENV_PREFIX = "TIPFUSION_"
# names older configurations used, still read: (section, key) they set
LEGACY_ENV = {
    "TIPFUSION_ACKNOWLEDGE_HOURS": ("deadlines", "acknowledge_hours"),
    "TIPFUSION_FIR_DAYS": ("deadlines", "fir_days"),
}
LEGACY_FILE = {("referrals", "acknowledge_hours"): "acknowledge_hours", ("referrals", "fir_days"): "fir_days"}


@dataclass(frozen=True)
class Tuning:
    """The effective settings of the sections, and where each value came from (`link.weights.phone` →
    `tipfusion.toml [link]`, `TIPFUSION_LINK__THRESHOLD`, or `default`)."""

    link: LinkSettings
    triage: TriageSettings
    routing: RoutingSettings
    deadlines: CaseDeadlines
    sessions: SessionSettings
    origins: dict[str, str]

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: asdict(getattr(self, name)) for name in SECTIONS}


def load_tuning(config_file: str | None = None, env: Mapping[str, str] | None = None) -> Tuning:
    """The sections from `config_file` (TOML) and `env` (default: the process environment), validated."""
    environment = dict(os.environ if env is None else env)
    data = read_config_file(config_file)
    chosen = tuple(sorted((k, v) for k, v in environment.items() if k.startswith(ENV_PREFIX)))
    return _load(config_file, json.dumps(data, sort_keys=True, default=str), chosen)


@lru_cache(maxsize=8)
def _load(config_file: str | None, text: str, env: tuple[tuple[str, str], ...]) -> Tuning:
    """Cached on what the file says (not its name: an edited file is read afresh) and the variables."""
    from pydantic import ValidationError

    given_file, file_keys = _file_sections(json.loads(text), config_file)
    given_env, env_names = _env_sections(dict(env))
    model = _model(given_env, given_file)
    try:
        loaded = model()
    except ValidationError as exc:
        problems = [_describe(error, given_env, env_names, file_keys, config_file) for error in exc.errors()]
        raise ConfigurationError("; ".join(dict.fromkeys(problems))) from None
    origins = _origins(env_names, file_keys, config_file)
    return Tuning(loaded.link, loaded.triage, loaded.routing, loaded.deadlines, loaded.sessions, origins)


def _model(given_env: dict[str, Any], given_file: dict[str, Any]) -> Any:
    """The settings model with its two sources, environment over file (pydantic-settings merges them, deep)."""
    from pydantic_settings import PydanticBaseSettingsSource

    class Given(PydanticBaseSettingsSource):
        def __init__(self, settings_cls: Any, values: dict[str, Any]) -> None:
            super().__init__(settings_cls)
            self.values = values

        def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # noqa: ARG002
            return self.values.get(field_name), field_name, False

        def __call__(self) -> dict[str, Any]:
            return dict(self.values)

    class Loaded(_base()):  # type: ignore[misc]
        @classmethod
        def settings_customise_sources(cls, settings_cls: Any, init_settings: Any, **_: Any) -> tuple[Any, ...]:
            return (init_settings, Given(settings_cls, given_env), Given(settings_cls, given_file))

    return Loaded


@lru_cache(maxsize=1)
def _base() -> Any:
    """The pydantic-settings model over the section dataclasses (built once, on first use: pydantic loads only here)."""
    from pydantic import Field, field_validator
    from pydantic_core import PydanticCustomError
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class TuningModel(BaseSettings):
        model_config = SettingsConfigDict(extra="ignore", frozen=True)

        link: LinkSettings = Field(default_factory=LinkSettings)
        triage: TriageSettings = Field(default_factory=TriageSettings)
        routing: RoutingSettings = Field(default_factory=RoutingSettings)
        deadlines: CaseDeadlines = Field(default_factory=CaseDeadlines)
        sessions: SessionSettings = Field(default_factory=SessionSettings)

        @field_validator(*SECTIONS, mode="before")
        @classmethod
        def _over_defaults(cls, value: Any, info: Any) -> Any:
            """What a file gives is merged over the defaults: mappings key by key, unknown keys refused."""
            if is_dataclass(value):
                return value
            if not isinstance(value, dict):
                raise PydanticCustomError("tipfusion_table", "expected a table of settings")
            defaults = asdict(SECTIONS[info.field_name]())
            stray = sorted(set(value) - set(defaults))
            if stray:
                raise PydanticCustomError(
                    "tipfusion_unknown_key",
                    "{key}: no such key, expected one of {known}",
                    {"key": stray[0], "name": stray[0], "known": ", ".join(defaults)},
                )
            merged = dict(defaults)
            for key, given in value.items():
                default = defaults.get(key)
                if isinstance(default, dict) and isinstance(given, dict):
                    unknown = sorted(set(given) - set(default))
                    if unknown:
                        raise PydanticCustomError(
                            "tipfusion_unknown_key",
                            "{key}: unknown name {name!r}, expected one of {known}",
                            {"key": f"{key}.{unknown[0]}", "name": unknown[0], "known": ", ".join(sorted(default))},
                        )
                    merged[key] = {**default, **given}
                else:
                    merged[key] = given
            return merged

    return TuningModel


def _file_sections(data: Mapping[str, Any], config_file: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The tables of the file (older `[referrals]` deadline keys folded in), and each dotted key's place in it
    (`deadlines.fir_days` → `[referrals] fir_days` for an older file)."""
    out: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for (section, key), target in LEGACY_FILE.items():
        old = data.get(section)
        if isinstance(old, dict) and key in old:
            out.setdefault("deadlines", {})[target] = old[key]
            keys[f"deadlines.{target}"] = f"[{section}] {key}"
    for name in SECTIONS:
        if name in data:
            value = data[name]
            if not isinstance(value, dict):
                raise ConfigurationError(f"{config_file}: [{name}] must be a table, got {value!r}")
            out[name] = _merge(out.get(name, {}), value)
            for dotted in flatten(value, name):
                head, _, rest = dotted.partition(".")
                keys[dotted] = f"[{head}] {rest}"
    return out, keys


def _env_sections(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """`TIPFUSION_LINK__WEIGHTS__PHONE=9` → {"link": {"weights": {"phone": "9"}}}; and each dotted key's variable."""
    given: dict[str, Any] = {}
    names: dict[str, str] = {}
    for variable, (section, key) in LEGACY_ENV.items():
        if variable in env:
            given.setdefault(section, {})[key] = env[variable]
            names[f"{section}.{key}"] = variable
    for variable, value in env.items():
        parts = variable.removeprefix(ENV_PREFIX).lower().split("__")
        if len(parts) < 2 or parts[0] not in SECTIONS or not variable.startswith(ENV_PREFIX):
            continue
        node = given.setdefault(parts[0], {})
        for part in parts[1:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _env_value(value)
        names[".".join(parts)] = variable
    return given, names


def _env_value(value: str) -> Any:
    """A list from the environment as TOML writes one (`["phone", "email"]`); anything else as text."""
    text = value.strip()
    if text.startswith("["):
        import tomllib

        try:
            return tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            return value
    return value


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


_EXPECTED = {
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "dict_type": "a table",
    "tuple_type": "a list",
    "list_type": "a list",
    "string_type": "text",
}


def _describe(
    error: Any, given_env: dict[str, Any], env_names: dict[str, str], file_keys: dict[str, str], config_file: str | None
) -> str:
    """One pydantic error as a line naming the key, where it came from, what was expected and what was given."""
    loc = [str(part) for part in error["loc"]]
    section, path = loc[0], loc[1:]
    ctx = error.get("ctx") or {}
    given = f", got {error.get('input')!r}"
    if error["type"] == "tipfusion_unknown_key":
        path = str(ctx["key"]).split(".")
        what = "unknown name" if len(path) > 1 else "no such key"
        detail, given = f"{what} {ctx['name']!r}, expected one of {ctx['known']}", ""
    else:
        unit = next((f" of {u}" for u in ("minutes", "hours", "days") if path and path[-1].endswith(f"_{u}")), "")
        expected = _EXPECTED.get(error["type"], "")
        if error["type"] == "predicate_failed" and hasattr(SECTIONS[section], "allowed"):
            expected = SECTIONS[section].allowed(".".join(path))
        if not expected and "ge" in ctx:
            default = flatten(asdict(SECTIONS[section]())).get(".".join(path))
            expected = "a whole number" if isinstance(default, int) else "a number"
        if expected in ("a number", "a whole number"):
            expected += unit
        if "ge" in ctx:
            expected += f" ≥ {ctx['ge']}"
        detail = f"expected {expected or error['msg']}"
    dotted = ".".join([section, *path])
    if dotted in env_names and _has(given_env, [section, *path]):
        return f"{env_names[dotted]}={error.get('input')!r}: {detail}"
    place = file_keys.get(dotted, f"[{section}] {'.'.join(path)}".rstrip())
    return f"{config_file or 'settings'}: {place}: {detail}{given}"


def _has(tree: Mapping[str, Any], path: list[str]) -> bool:
    node: Any = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _origins(env_names: dict[str, str], file_keys: dict[str, str], config_file: str | None) -> dict[str, str]:
    """Where each effective value came from: the variable that set it, the file's key, or the default."""
    out: dict[str, str] = {}
    for section, kind in SECTIONS.items():
        for dotted in flatten(asdict(kind()), section):
            if dotted in env_names:
                out[dotted] = env_names[dotted]
            elif dotted in file_keys:
                out[dotted] = f"{config_file} {file_keys[dotted]}"
            else:
                out[dotted] = "default"
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """`{"weights": {"phone": 7.0}}` → `{"weights.phone": 7.0}` (for `config show`)."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}
