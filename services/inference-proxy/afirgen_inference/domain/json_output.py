"""Model output that must be JSON following a schema."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

MAX_DESCRIPTION = 200


def parse_schema(text: str) -> dict[str, Any]:
    """The schema in ``text``; ``ValueError`` says what is wrong with it."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(schema, dict):
        raise ValueError("must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"is not a valid JSON schema: {exc.message[:MAX_DESCRIPTION]}") from None
    return schema


def output_problem(text: str, schema: dict[str, Any]) -> str | None:
    """Why ``text`` is not a JSON document valid for ``schema``; ``None`` when it is."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at position {exc.pos})"
    error = next(iter(Draft202012Validator(schema).iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    # The message quotes the offending value (model output, maybe personal
    # data): keep only the validator that failed and where.
    return f"does not match the schema at {where} ({error.validator} failed)"
