"""Validation of requests against Discord's published OpenAPI 3.1 spec of the HTTP API (v10)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

# The venv has no jsonschema stubs (types-jsonschema).
from jsonschema import Draft202012Validator, validators  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.fakediscord.request_body import RequestBody

SPEC_PATH = Path(__file__).with_name("discord-openapi.json")
SPEC_URI = "urn:discord-openapi"
METHODS = ("get", "put", "post", "delete", "patch")
MAX_MESSAGE_LENGTH = 300


@functools.cache
def load_spec() -> dict[str, Any]:
    """Load the OpenAPI document shipped next to this module, once per process."""
    with SPEC_PATH.open(encoding="utf-8") as file:
        spec: dict[str, Any] = json.load(file)
    return spec


def _type_accepting_int_snowflakes(
    validator: Validator, types: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # Discord accepts a snowflake as a JSON number as well as a string, and discord.py sends
    # numbers (recipient_id, allowed_mentions.users), though the spec types snowflakes as strings.
    is_number = isinstance(instance, int) and not isinstance(instance, bool)
    if schema.get("format") == "snowflake" and is_number and instance >= 0:
        return
    yield from Draft202012Validator.VALIDATORS["type"](validator, types, instance, schema)


DiscordValidator = validators.extend(Draft202012Validator, {"type": _type_accepting_int_snowflakes})


class OpenApiValidator:
    """Checks method, path, query names and bodies of requests against the spec.

    Validators are compiled lazily, once per operation and content type.
    """

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self._spec = load_spec() if spec is None else spec
        resource = Resource.from_contents(self._spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._templates = _compile_templates(self._spec["paths"])
        self._validators: dict[str, Validator] = {}

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """Return the spec's path template for ``path`` (relative to /api/v10) and its params."""
        for pattern, template in self._templates:
            found = pattern.fullmatch(path)
            if found is not None:
                return template, found.groupdict()
        return None

    def check(
        self, method: str, path: str, query: Mapping[str, str], body: RequestBody
    ) -> list[str]:
        """Return one message per way the request breaks the spec, or an empty list."""
        matched = self.match(path)
        if matched is None:
            return [f"{method} {path}: path is not in Discord's OpenAPI spec"]
        template, path_params = matched
        path_item = self._spec["paths"][template]
        operation = path_item.get(method.lower())
        if operation is None:
            allowed = ", ".join(m.upper() for m in METHODS if m in path_item)
            return [f"{method} {template}: method is not in the spec (allowed: {allowed})"]
        parameters = [*path_item.get("parameters", []), *operation.get("parameters", [])]
        where = f"{method} {template}"
        problems = self._check_path_params(where, template, path_params)
        problems += _check_query_names(where, parameters, query)
        problems += self._check_body(where, template, method.lower(), operation, body)
        return problems

    def _check_path_params(self, where: str, template: str, values: dict[str, str]) -> list[str]:
        # The spec declares every path parameter on the path item, none on operations.
        problems: list[str] = []
        for index, parameter in enumerate(self._spec["paths"][template].get("parameters", [])):
            name = parameter["name"]
            if parameter.get("in") != "path" or name not in values:
                continue
            pointer = f"/paths/{_escape(template)}/parameters/{index}/schema"
            for message in self._errors(pointer, values[name]):
                problems.append(f"{where}: path parameter {name}={values[name]!r}: {message}")
        return problems

    def _check_body(
        self,
        where: str,
        template: str,
        method: str,
        operation: dict[str, Any],
        body: RequestBody,
    ) -> list[str]:
        request_body = operation.get("requestBody")
        if not body.present:
            if request_body is not None and request_body.get("required"):
                return [f"{where}: request body is required but missing"]
            return []
        if request_body is None:
            return [f"{where}: request has a body but the operation takes none"]
        content = request_body.get("content", {})
        media = "application/json" if "application/json" in content else "multipart/form-data"
        if media not in content:
            return [f"{where}: the spec lists no JSON body schema ({', '.join(content)})"]
        pointer = f"/paths/{_escape(template)}/{method}/requestBody/content/{_escape(media)}/schema"
        return [f"{where}: body {message}" for message in self._errors(pointer, body.payload)]

    def _errors(self, pointer: str, instance: Any) -> list[str]:
        validator = self._validators.get(pointer)
        if validator is None:
            schema = {"$ref": f"{SPEC_URI}#{pointer}"}
            validator = DiscordValidator(schema, registry=self._registry)
            self._validators[pointer] = validator
        messages = []
        for error in validator.iter_errors(instance):
            deepest = best_match([error]) or error
            text = f"{deepest.json_path}: {deepest.message}"
            messages.append(_truncate(text))
        return messages


def _compile_templates(paths: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    """Compile path templates, literal segments first so /users/@me wins over /users/{user_id}."""
    compiled = []
    for template in paths:
        parts = template.strip("/").split("/")
        regex = "".join(
            f"/(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else "/" + re.escape(part)
            for part in parts
        )
        parameter_count = sum(part.startswith("{") for part in parts)
        compiled.append((parameter_count, re.compile(regex), template))
    compiled.sort(key=lambda item: item[0])
    return [(pattern, template) for _, pattern, template in compiled]


def _check_query_names(
    where: str, parameters: list[dict[str, Any]], query: Mapping[str, str]
) -> list[str]:
    declared = {parameter["name"] for parameter in parameters if parameter.get("in") == "query"}
    return [
        f"{where}: query parameter {name!r} is not in the spec"
        for name in query
        if name not in declared
    ]


def _escape(segment: str) -> str:
    """Escape a JSON pointer segment (RFC 6901)."""
    return segment.replace("~", "~0").replace("/", "~1")


def _truncate(text: str) -> str:
    if len(text) <= MAX_MESSAGE_LENGTH:
        return text
    return text[: MAX_MESSAGE_LENGTH - 3] + "..."
