"""Messages for configuration mistakes: which key or variable, where it came from, and the fix."""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsError

ENV_PREFIX = "IMAGINE_"
SECRET_KEYS = frozenset({"token", "password"})
HIDDEN = "<hidden>"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key, the source and the fix."""


def check_environment_names(environ: Mapping[str, str], model: type[BaseModel]) -> None:
    """Raise ConfigError for an ``IMAGINE_*`` variable that names no setting of ``model``."""
    # pydantic-settings reads only the variables it looks for, so a misspelt one would be ignored.
    known = _environment_names(model)
    unknown = [name for name in environ if _is_prefixed(name) and name.upper() not in known]
    if unknown:
        raise ConfigError("\n".join(_describe_unknown_variable(name, known) for name in unknown))


def _is_prefixed(name: str) -> bool:
    # pydantic-settings matches names case-insensitively, so imagine_queue__max_attempts counts.
    return name.upper().startswith(ENV_PREFIX)


def _environment_names(model: type[BaseModel]) -> set[str]:
    names = set()
    for field_name, field in model.model_fields.items():
        name = ENV_PREFIX + field_name.upper()
        names.add(name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names.update(f"{name}__{key.upper()}" for key in field.annotation.model_fields)
    return names


def _describe_unknown_variable(name: str, known: set[str]) -> str:
    suffixes = [known_name.removeprefix(ENV_PREFIX) for known_name in known]
    guesses = difflib.get_close_matches(name.upper().removeprefix(ENV_PREFIX), suffixes, 1, 0.8)
    if guesses:
        return (
            f"environment variable {name}: unknown setting; rename it to {ENV_PREFIX}{guesses[0]} "
            f"(a section and its key are joined with two underscores)"
        )
    return (
        f"environment variable {name}: unknown setting; unset it or name a setting as "
        f"{ENV_PREFIX}<SECTION>__<KEY>, such as IMAGINE_QUEUE__MAX_ATTEMPTS "
        f"(config.example.toml lists every section and key)"
    )


def describe_settings_error(exc: SettingsError, model: type[BaseModel]) -> str:
    """Name the ``IMAGINE_*`` variable behind a SettingsError and what it should hold."""
    # pydantic-settings raises SettingsError when a variable of a list or table is not JSON, and
    # names only the top-level field, as in 'error parsing value for field "backends"'.
    match = re.search(r'field "([^"]+)"', str(exc))
    field_name = match.group(1).upper() if match else ""
    candidates = [
        name for name in os.environ if _is_prefixed(name) and _env_parts(name)[0] == field_name
    ]
    if not candidates:
        return f"the environment: {exc}; check the {ENV_PREFIX}* variables"
    culprits = [
        name
        for name in candidates
        if _takes_json(model, _env_parts(name)) and not _is_json(os.environ[name])
    ]
    return "\n".join(_describe_json_variable(name) for name in culprits or candidates)


def _env_parts(name: str) -> list[str]:
    return name.upper().removeprefix(ENV_PREFIX).split("__")


def _takes_json(model: type[BaseModel], parts: list[str]) -> bool:
    field = model.model_fields.get(parts[0].lower())
    annotation = field.annotation if field is not None else None
    if len(parts) == 2 and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        key = annotation.model_fields.get(parts[1].lower())
        annotation = key.annotation if key is not None else None
    elif len(parts) > 1:
        return False
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return is_model or get_origin(annotation) is list


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _describe_json_variable(name: str) -> str:
    parts = _env_parts(name)
    # A whole [discord] table or backend list may contain a token or password.
    hidden = any(part.lower() in SECRET_KEYS for part in parts) or parts in (
        ["DISCORD"],
        ["BACKENDS"],
    )
    shown = HIDDEN if hidden else repr(os.environ[name])
    if parts == ["BACKENDS"]:
        example = 'a JSON list such as [{"name": "gpu-1", "url": "http://127.0.0.1:7860"}]'
    elif len(parts) == 1:
        example = f"a JSON object of [{parts[0].lower()}] keys, or set one key with {name}__<KEY>"
    else:
        example = "a JSON list such as [123456789012345678]"
    return f"environment variable {name}: invalid value {shown}: not valid JSON; give {example}"


def describe_validation_error(
    exc: ValidationError,
    toml_path: Path | None,
    model: type[BaseModel] | None = None,
    file_values: Mapping[str, Any] | None = None,
) -> str:
    """Describe each error with the key, its source (file or variable) and the fix."""
    lines = []
    for error in exc.errors(include_url=False):
        location = [str(part) for part in error["loc"]]
        key = _dotted_key(location)
        source = _source_of(location, toml_path, file_values)
        if error["type"] == "extra_forbidden":
            lines.append(
                f"{source}: unknown key {key!r}; remove it or fix its spelling "
                f"(config.example.toml lists every key)"
            )
            continue
        value = error.get("input")
        hidden = bool(location) and location[-1] in SECRET_KEYS
        shown = HIDDEN if hidden else _shorten(repr(_redact_secrets(value)))
        message = error["msg"].removeprefix("Value error, ")
        allowed = _allowed_range(model, location) if model is not None else None
        if allowed is not None:
            message = f"{message} ({allowed})"
        lines.append(f"{source}: invalid value {shown} for {key!r}: {message}; fix it in {source}")
    return "\n".join(lines)


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


def _allowed_range(model: type[BaseModel], location: list[str]) -> str | None:
    """Return the bounds and default of the numeric setting at ``location``, or None."""
    field = None
    current: Any = model
    for part in location:
        if part.isdigit():
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return None
        field = fields[part]
        current = _model_in(field.annotation)
    if field is None:
        return None
    bounds = {
        name: getattr(item, name)
        for item in field.metadata
        for name in ("ge", "gt", "le", "lt")
        if getattr(item, name, None) is not None
    }
    if not bounds:
        return None
    parts = []
    if "ge" in bounds or "gt" in bounds:
        parts.append(f"from {bounds['ge']}" if "ge" in bounds else f"above {bounds['gt']}")
    if "le" in bounds or "lt" in bounds:
        parts.append(f"to {bounds['le']}" if "le" in bounds else f"below {bounds['lt']}")
    text = " ".join(parts)
    if field.is_required():
        return f"allowed: {text}"
    return f"allowed: {text}, default {field.default}"


def _model_in(annotation: Any) -> Any:
    """Return the model class inside ``annotation`` (itself, or a list of them), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _redact_secrets(value: Any) -> Any:
    """Return ``value`` with the values of ``token`` and ``password`` keys hidden, at any depth."""
    if isinstance(value, Mapping):
        return {
            key: HIDDEN if key in SECRET_KEYS else _redact_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_secrets(item) for item in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\1{HIDDEN}@", value)
    return value


# The password part of a URL such as http://user:password@host.
_URL_PASSWORD = re.compile(r"(://[^/@\s:]*:)[^/@\s]*@")


def _dotted_key(location: list[str]) -> str:
    parts: list[str] = []
    for part in location:
        if part.isdigit() and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        else:
            parts.append(part)
    return ".".join(parts) or "(top level)"


def _source_of(
    location: list[str], toml_path: Path | None, file_values: Mapping[str, Any] | None = None
) -> str:
    names = [part for part in location if not part.isdigit()]
    for depth in range(len(names), 0, -1):
        env_name = ENV_PREFIX + "__".join(names[:depth]).upper()
        if env_name in os.environ:
            return f"environment variable {env_name}"
    if names[:2] == ["discord", "token"] and "DISCORD_TOKEN" in os.environ:
        return "environment variable DISCORD_TOKEN"
    # A rule over a whole section (such as the dashboard's token rule) may break on keys set by
    # variables below it, by the file, or by both.
    nested = _nested_variables(names)
    in_file = toml_path is not None and (file_values is None or _has_key(file_values, location))
    if nested:
        variables = "environment variable" + ("s " if len(nested) > 1 else " ")
        variables += ", ".join(nested)
        return f"{variables} or {toml_path}" if in_file else variables
    return str(toml_path) if toml_path is not None else "the environment"


def _nested_variables(names: list[str]) -> list[str]:
    if not names:
        return []
    prefix = ENV_PREFIX + "__".join(names).upper() + "__"
    return sorted(name for name in os.environ if name.upper().startswith(prefix))


def _has_key(values: Mapping[str, Any], location: list[str]) -> bool:
    current: Any = values
    for part in location:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False
    return True
