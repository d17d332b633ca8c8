"""pydantic v1 coercion rules and the 422 bodies FastAPI builds from them."""

from __future__ import annotations

import math

import pytest

from fakewebui.coercion import (
    Field,
    coerce_bool,
    coerce_dict,
    coerce_float,
    coerce_int,
    coerce_list,
    coerce_str,
    validate_body,
)
from fakewebui.errors import RequestValidationError


@pytest.mark.parametrize(
    ("value", "expected"), [(20, 20), ("20", 20), (20.7, 20), (False, 0), (True, 1), (" 7 ", 7)]
)
def test_coerce_int_accepts(value, expected) -> None:
    assert coerce_int(value) == expected


@pytest.mark.parametrize("value", ["20.5", "abc", [1], {}, math.inf, math.nan])
def test_coerce_int_rejects(value) -> None:
    with pytest.raises(Exception, match="value is not a valid integer"):
        coerce_int(value)


@pytest.mark.parametrize(("value", "expected"), [(7, 7.0), ("7.5", 7.5), (True, 1.0)])
def test_coerce_float_accepts(value, expected) -> None:
    assert coerce_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (0, False), (1, True), ("yes", True), ("Off", False), ("t", True), (1.0, True)],
)
def test_coerce_bool_accepts(value, expected) -> None:
    assert coerce_bool(value) is expected


@pytest.mark.parametrize("value", [2, 0.5, "maybe", [], {}])
def test_coerce_bool_rejects(value) -> None:
    with pytest.raises(Exception, match="value could not be parsed to a boolean"):
        coerce_bool(value)


def test_coerce_str_numbers_and_containers() -> None:
    assert coerce_str(5) == "5"
    assert coerce_str(1.5) == "1.5"
    with pytest.raises(Exception, match="str type expected"):
        coerce_str(["a"])


def test_coerce_list_and_dict() -> None:
    assert coerce_list((1, 2)) == [1, 2]
    assert coerce_dict([["a", 1]]) == {"a": 1}
    with pytest.raises(Exception, match="value is not a valid list"):
        coerce_list("abc")
    with pytest.raises(Exception, match="value is not a valid dict"):
        coerce_dict(5)


def test_validate_body_collects_every_error() -> None:
    fields = (Field("steps", "int", 50), Field("styles", "str_list"), Field("name", "str"))

    with pytest.raises(RequestValidationError) as caught:
        validate_body({"steps": "many", "styles": ["ok", ["nested"]], "name": {}}, fields)

    assert caught.value.errors == [
        {
            "loc": ["body", "steps"],
            "msg": "value is not a valid integer",
            "type": "type_error.integer",
        },
        {"loc": ["body", "styles", 1], "msg": "str type expected", "type": "type_error.str"},
        {"loc": ["body", "name"], "msg": "str type expected", "type": "type_error.str"},
    ]


def test_validate_body_defaults_copied() -> None:
    fields = (Field("script_args", "list", [], nullable=False),)

    first = validate_body({}, fields)
    first["script_args"].append("changed")
    second = validate_body({}, fields)

    assert second["script_args"] == []


def test_validate_body_limits_and_choices() -> None:
    fields = (
        Field("mode", "int", 0, choices=(0, 1)),
        Field("weight", "float", 0, ge=0, le=1, finite=True),
        Field("scale", "float", 2, gt=0),
    )

    with pytest.raises(RequestValidationError) as caught:
        validate_body({"mode": 2, "weight": 1.5, "scale": 0}, fields)

    assert [error["type"] for error in caught.value.errors] == [
        "value_error.const",
        "value_error.number.not_le",
        "value_error.number.not_gt",
    ]
    assert caught.value.errors[0]["msg"] == "unexpected value; permitted: 0, 1"
    assert caught.value.errors[1]["ctx"] == {"limit_value": 1}
    assert validate_body({"mode": True}, fields)["mode"] == 1


def test_validate_body_none_rules() -> None:
    fields = (Field("optional", "int", 1), Field("strict", "str", "x", nullable=False))

    with pytest.raises(RequestValidationError) as caught:
        validate_body({"optional": None, "strict": None}, fields)

    assert caught.value.errors == [
        {
            "loc": ["body", "strict"],
            "msg": "none is not an allowed value",
            "type": "type_error.none.not_allowed",
        }
    ]


async def test_txt2img_invalid_fields_422(client) -> None:
    reply = await client.txt2img({"steps": "many", "cfg_scale": "high", "styles": "cinematic"})

    assert reply.status == 422
    assert reply.body == {
        "detail": [
            {
                "loc": ["body", "styles"],
                "msg": "value is not a valid list",
                "type": "type_error.list",
            },
            {
                "loc": ["body", "steps"],
                "msg": "value is not a valid integer",
                "type": "type_error.integer",
            },
            {
                "loc": ["body", "cfg_scale"],
                "msg": "value is not a valid float",
                "type": "type_error.float",
            },
        ]
    }


async def test_txt2img_bad_json_422(client) -> None:
    reply = await client.post(
        "/sdapi/v1/txt2img", data=b'{"steps": 3,', headers={"Content-Type": "application/json"}
    )

    assert reply.status == 422
    error = reply.body["detail"][0]
    assert error["type"] == "value_error.jsondecode"
    assert error["loc"] == ["body", 12]
    assert error["msg"].startswith("Expecting property name enclosed in double quotes")
    assert error["ctx"]["pos"] == 12


async def test_txt2img_missing_body_422(client) -> None:
    reply = await client.post("/sdapi/v1/txt2img")

    assert reply.status == 422
    assert reply.body == {
        "detail": [{"loc": ["body"], "msg": "field required", "type": "value_error.missing"}]
    }


@pytest.mark.parametrize("payload", [[1, 2], "text", 5])
async def test_txt2img_non_object_body_422(client, payload) -> None:
    reply = await client.txt2img(payload)

    assert reply.status == 422
    assert reply.body["detail"][0]["loc"] == ["body"]
    assert reply.body["detail"][0]["type"] == "type_error.dict"


async def test_txt2img_non_json_content_type_422(client) -> None:
    reply = await client.post(
        "/sdapi/v1/txt2img", data=b"steps=3", headers={"Content-Type": "text/plain"}
    )

    assert reply.status == 422
    assert reply.body["detail"][0]["msg"] == "value is not a valid dict"
