"""Domain dataclasses <-> JSON-compatible values (for JSON columns)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import cattrs

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False)
converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
converter.register_unstructure_hook(Enum, lambda e: e.value)


def dumps(value: Any) -> str:
    """JSON text of a dataclass (or list of them)."""
    return json.dumps(converter.unstructure(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes | None, kind: Any) -> Any:
    """Parse JSON text into ``kind`` (``None`` for a NULL column)."""
    if text is None:
        return None
    return converter.structure(json.loads(text), kind)
