"""Request-body validation with pydantic v1 coercion rules and error wording.

A1111 1.10 runs on FastAPI 0.94 with pydantic 1.x, which converts loosely ("20" and 20.7 become
20, false becomes 0) and reports what it cannot convert as a list of ``{"loc", "msg", "type"}``
items. The project has pydantic 2, whose rules and wording differ, so the v1 behaviour is
rebuilt here for the few field types the API uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fakewebui.errors import RequestValidationError

Loc = tuple[str | int, ...]

_BOOL_TRUE = {1, "1", "on", "t", "true", "y", "yes"}
_BOOL_FALSE = {0, "0", "off", "f", "false", "n", "no"}


class _InvalidValue(Exception):
    def __init__(self, msg: str, error_type: str, ctx: dict[str, Any] | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.error_type = error_type
        self.ctx = ctx


@dataclass(frozen=True)
class Field:
    """One body field: its type name, default and constraints."""

    name: str
    kind: str
    default: Any = None
    nullable: bool = True
    required: bool = False
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    finite: bool = False
    choices: tuple[Any, ...] | None = None


def coerce_int(value: Any) -> int:
    """Convert like pydantic v1 ``int``, which accepts bools and digits and truncates floats."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise _InvalidValue("value is not a valid integer", "type_error.integer") from None


def coerce_float(value: Any) -> float:
    """Convert like pydantic v1 ``float``."""
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise _InvalidValue("value is not a valid float", "type_error.float") from None


def coerce_bool(value: Any) -> bool:
    """Convert like pydantic v1 ``bool``, which accepts only 0, 1 and the usual yes/no words."""
    if value is True or value is False:
        return value
    if isinstance(value, str):
        value = value.lower()
    try:
        if value in _BOOL_TRUE:
            return True
        if value in _BOOL_FALSE:
            return False
    except TypeError:
        pass
    raise _InvalidValue("value could not be parsed to a boolean", "type_error.bool")


def coerce_str(value: Any) -> str:
    """Convert like pydantic v1 ``str``, which turns numbers into text and rejects containers."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise _InvalidValue("str type expected", "type_error.str")


def coerce_list(value: Any) -> list[Any]:
    """Convert like pydantic v1 ``list``."""
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise _InvalidValue("value is not a valid list", "type_error.list")


def coerce_dict(value: Any) -> dict[Any, Any]:
    """Convert like pydantic v1 ``dict``, which also accepts a list of key-value pairs."""
    if isinstance(value, dict):
        return value
    try:
        return dict(value)
    except (TypeError, ValueError):
        raise _InvalidValue("value is not a valid dict", "type_error.dict") from None


def _keep(value: Any) -> Any:
    return value


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "int": coerce_int,
    "float": coerce_float,
    "bool": coerce_bool,
    "str": coerce_str,
    "list": coerce_list,
    "dict": coerce_dict,
    "any": _keep,
}


def validate_body(body: Any, fields: Sequence[Field]) -> dict[str, Any]:
    """Validate a parsed JSON body and return every field with defaults applied.

    Raises:
        RequestValidationError: a body that is missing or not an object, or fields that
            cannot be converted, each listed with its ``loc``.
    """
    if body is None:
        raise RequestValidationError([_error(("body",), "field required", "value_error.missing")])
    try:
        mapping = coerce_dict(body)
    except _InvalidValue as exc:
        raise RequestValidationError([_error(("body",), exc.msg, exc.error_type)]) from None
    return _validate_mapping(mapping, fields, "body")


def validate_query(query: Mapping[str, str], fields: Sequence[Field]) -> dict[str, Any]:
    """Validate query parameters like FastAPI does for a ``Depends()`` model.

    Raises:
        RequestValidationError: parameters that cannot be converted, with ``loc`` ["query", name].
    """
    return _validate_mapping(query, fields, "query")


def _validate_mapping(
    mapping: Mapping[Any, Any], fields: Sequence[Field], location: str
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in fields:
        try:
            values[field.name] = _validate_field(field, mapping, location)
        except _InvalidValue as exc:
            errors.append(_error((location, field.name), exc.msg, exc.error_type, exc.ctx))
        except RequestValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise RequestValidationError(errors)
    return values


def _validate_field(field: Field, body: Mapping[Any, Any], location: str) -> Any:
    if field.name not in body:
        if field.required:
            raise _InvalidValue("field required", "value_error.missing")
        return _copy_default(field.default)
    value = body[field.name]
    if value is None:
        if field.nullable:
            return None
        raise _InvalidValue("none is not an allowed value", "type_error.none.not_allowed")
    if field.choices is not None:
        return _check_choice(field, value)
    if field.kind == "str_list":
        return _validate_str_list((location, field.name), value)
    converted = _COERCERS[field.kind](value)
    if field.kind in ("int", "float"):
        _check_limits(field, converted)
    return converted


def _validate_str_list(loc: Loc, value: Any) -> list[str]:
    items = coerce_list(value)
    result: list[str] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            result.append(coerce_str(item))
        except _InvalidValue as exc:
            errors.append(_error((*loc, index), exc.msg, exc.error_type))
    if errors:
        raise RequestValidationError(errors)
    return result


def _check_choice(field: Field, value: Any) -> Any:
    assert field.choices is not None
    # pydantic v1 looks the value up in a dict, so True matches 1 and 1.0 matches 1.
    allowed = {choice: choice for choice in field.choices}
    try:
        return allowed[value]
    except (KeyError, TypeError):
        pass
    permitted = ", ".join(repr(choice) for choice in field.choices)
    ctx = {"given": value, "permitted": list(field.choices)}
    raise _InvalidValue(f"unexpected value; permitted: {permitted}", "value_error.const", ctx)


def _check_limits(field: Field, value: float) -> None:
    if field.finite and not math.isfinite(value):
        raise _InvalidValue(
            "ensure this value is a finite number", "value_error.number.not_finite_number"
        )
    if field.gt is not None and not value > field.gt:
        raise _limit_error("greater than", "not_gt", field.gt)
    if field.ge is not None and not value >= field.ge:
        raise _limit_error("greater than or equal to", "not_ge", field.ge)
    if field.le is not None and not value <= field.le:
        raise _limit_error("less than or equal to", "not_le", field.le)


def _limit_error(relation: str, code: str, limit: float) -> _InvalidValue:
    return _InvalidValue(
        f"ensure this value is {relation} {limit}",
        f"value_error.number.{code}",
        {"limit_value": limit},
    )


def _copy_default(default: Any) -> Any:
    if isinstance(default, list | dict):
        return type(default)(default)
    return default


def _error(
    loc: Loc, msg: str, error_type: str, ctx: dict[str, Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"loc": list(loc), "msg": msg, "type": error_type}
    if ctx:
        error["ctx"] = ctx
    return error
