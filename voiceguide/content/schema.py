"""Validate routine and library data against routines/schema.json, as located one-line problems."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from jsonschema import Draft202012Validator, ValidationError

from voiceguide.content.problem import Problem
from voiceguide.content.yaml_positions import DataPath
from voiceguide.errors import UserError

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "nothing",
}


class Locator(Protocol):
    """Turns a data path and a message into a located Problem."""

    def problem(self, path: DataPath, message: str, *, at_key: bool = False) -> Problem:
        """A Problem at `path` (its key when `at_key`, else its value)."""
        ...


def schema_path() -> Path:
    """Where the routine schema is: shipped inside the package (voiceguide/data/routines)."""
    candidate = Path(str(resources.files("voiceguide") / "data" / "routines" / "schema.json"))
    if candidate.is_file():
        return candidate
    raise UserError(f"routine schema not found ({candidate}); is voiceguide installed whole?")


@cache
def load_schema() -> dict[str, Any]:
    """The routine/library JSON Schema, as a dict."""
    return json.loads(schema_path().read_text(encoding="utf-8"))


@cache
def _validator(definition: str) -> Draft202012Validator:
    schema = load_schema()
    # Validate against one definition directly: we already know whether the file is a routine
    # or a library, and the top-level if/then/else would only blur the messages.
    root = {"$schema": schema["$schema"], "$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    return Draft202012Validator(root)


def allowed_step_keys() -> tuple[str, ...]:
    """Keys a routine step may have (including 'use')."""
    return tuple(load_schema()["$defs"]["step"]["properties"])


def show(value: Any) -> str:
    """A short rendering of a YAML value for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return show(value)
    if isinstance(value, int | float):
        return f"the number {show(value)}"
    if isinstance(value, str):
        return f"text ({show(value)})"
    return show(value)


def unknown_key_message(key: str, allowed: list[str]) -> str:
    """`unknown key 'x' (did you mean 'y'?)`, or the allowed keys when nothing is close."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}' (did you mean '{close[0]}'?)"
    return f"unknown key '{key}' (allowed: {', '.join(allowed)})"


def _messages(error: ValidationError) -> Iterator[tuple[DataPath, str, bool]]:
    """(path, message, at_key) for one schema error; some errors name several keys."""
    path: DataPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance = error.instance
    kind: Any = error.validator
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        for key in instance:
            if key not in allowed and not any(re.search(p, key) for p in patterns):
                yield (*path, key), unknown_key_message(key, allowed), True
        return
    if kind == "required" and isinstance(instance, dict):
        required: Any = error.validator_value
        for name in required:
            if name not in instance:
                yield path, f"missing required field '{name}'", False
        return
    if "propertyNames" in error.absolute_schema_path:
        # The error is about a key, which jsonschema reports at its mapping's path.
        reason = schema.get("patternErrorMessage", error.message)
        yield (*path, str(instance)), f"key '{instance}' {reason}", True
        return
    yield path, _message(error, schema, instance), False


def _message(error: ValidationError, schema: dict[str, Any], instance: Any) -> str:
    kind: Any = error.validator
    bound: Any = error.validator_value
    got = f" (got {show(instance)})"
    if "errorMessage" in schema:
        scalar = not isinstance(instance, dict | list)
        return schema["errorMessage"] + (got if scalar else "")
    if kind == "type":
        wanted: list[str] = bound if isinstance(bound, list) else [bound]
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        return f"expected {words}, got {_describe(instance)}"
    if kind == "enum":
        return f"must be one of: {', '.join(str(v) for v in bound)}{got}"
    if kind == "minimum":
        return (
            f"must not be negative{got}" if bound == 0 else f"must be at least {show(bound)}{got}"
        )
    if kind == "exclusiveMinimum":
        return f"must be more than {show(bound)}{got}"
    if kind == "maximum":
        return f"must be at most {show(bound)}{got}"
    if kind == "exclusiveMaximum":
        return f"must be less than {show(bound)}{got}"
    if kind in ("minLength", "minItems", "minProperties"):
        return "must not be empty"
    if kind == "maxItems":
        return f"must have at most {bound} items (got {len(instance)})"
    if kind == "pattern":
        return schema.get("patternErrorMessage", f"must match the pattern {bound}") + got
    return error.message


def _nan_paths(value: Any, path: DataPath) -> Iterator[DataPath]:
    # JSON Schema bounds compare false against NaN, so `.nan` would slip through them.
    if isinstance(value, float) and math.isnan(value):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nan_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nan_paths(item, (*path, i))


def schema_errors(data: Any, definition: str) -> list[tuple[DataPath, str, bool]]:
    """Every schema error in `data` as (path, message, at_key); definition 'routine' or 'library'."""
    found = [
        item for error in _validator(definition).iter_errors(data) for item in _messages(error)
    ]
    found += [(path, "must be a number (got .nan)", False) for path in _nan_paths(data, ())]
    return found


def schema_problems(data: Any, definition: str, locator: Locator) -> list[Problem]:
    """Every schema error in `data`, located and deduplicated."""
    found = {
        locator.problem(path, message, at_key=at_key)
        for path, message, at_key in schema_errors(data, definition)
    }
    return sorted(found, key=lambda p: p.sort_key)
