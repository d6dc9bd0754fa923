"""Validation errors said in the words of the API: what was expected, and where to send what.

pydantic's own messages describe its internals ("Input should be a valid dictionary or object to extract
fields from", "at least 8 items" for a string checked after a custom type); each error keeps its `loc`
and `type`, and gets a `msg` a client developer can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
_TYPE_WORDS = {"string_type": "a string", "int_type": "an integer", "int_parsing": "an integer",
               "bool_type": "true or false", "bool_parsing": "true or false", "uuid_parsing": "a UUID",
               "uuid_type": "a UUID", "float_type": "a number", "list_type": "a list"}
_FORM_HINTS = {"/auth/login": " (an OAuth2 form login is POST /auth/token with grant_type=password)"}
_MISSING_BODY_HINTS = {"/auth/logout": " (a refresh token or an access token of the session; an Authorization "
                                       "header is not read here)"}


def shape_of(model: type[BaseModel] | None) -> str:
    """The JSON object an endpoint takes, e.g. {"email": …, "password": …} (optional fields marked)."""
    if model is None:
        return "a JSON object"
    fields = [f'"{name}"{"" if info.is_required() else "?"}: …' for name, info in model.model_fields.items()]
    return "{" + ", ".join(fields) + "}"


def explain(error: Mapping[str, Any], body: type[BaseModel] | None, path: str, content_type: str) -> str:
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    original = str(error.get("msg", ""))
    if loc == ("body",):
        if kind == "missing":
            return f"A JSON body is required: {shape_of(body)}{_MISSING_BODY_HINTS.get(path, '')}"
        if kind in _NOT_AN_OBJECT:
            if "form" in content_type:
                return (f"This endpoint takes JSON, not a form: send {shape_of(body)} with "
                        f"Content-Type: application/json{_FORM_HINTS.get(path, '')}")
            return f"The body must be a JSON object: {shape_of(body)}"
    if kind == "json_invalid":
        return f"The body is not valid JSON ({ctx.get('error', 'syntax error')}); expected {shape_of(body)}"
    field = next((str(part) for part in reversed(loc) if isinstance(part, str) and part != "body"), None)
    if field is None:
        return original
    where = "query parameter" if loc[:1] == ("query",) else "path parameter" if loc[:1] == ("path",) else "field"
    name = f"`{field}`"
    if kind == "missing":
        description = _description(body, field) if loc[:1] == ("body",) else None
        return f"The {where} {name} is required" + (f": {description}" if description else "")
    if kind in ("too_short", "string_too_short") and "min_length" in ctx:
        return f"{name} must be at least {ctx['min_length']} characters long"
    if kind in ("too_long", "string_too_long") and "max_length" in ctx:
        return f"{name} must be at most {ctx['max_length']} characters long"
    if kind in _TYPE_WORDS:
        return f"{name} must be {_TYPE_WORDS[kind]}"
    if kind == "extra_forbidden":
        return f"{name} is not a field here; send {shape_of(body)}"
    if kind == "value_error":
        return f"{name}: {original.removeprefix('Value error, ')}"
    return f"{name}: {original}"


def _description(body: type[BaseModel] | None, field: str) -> str | None:
    info = body.model_fields.get(field) if body is not None else None
    return info.description if info is not None else None
