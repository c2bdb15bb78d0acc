"""Domain values <-> protobuf messages.

:func:`to_message` and :func:`from_message` map a dataclass that mirrors its
message field for field, by name, instead of a hand-written copy per message:
nested dataclasses map to sub-messages, lists to repeated fields, dicts to
maps, ``datetime`` to ``google.protobuf.Timestamp``, and a ``str`` Enum whose
values are the proto value names without the enum's prefix (``DRAFT`` <->
``FIR_STATUS_DRAFT``). Fields present on only one side are skipped. Every
message that mirrors a domain value is mapped this way (FIRs and everything in
them, legal sections, the cache's statistics); the servicers build by hand only
the fields whose name or kind differs from the domain value's.

:func:`timestamp` and :func:`duration` are the well-known types every servicer
and client uses.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar, overload

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from afirgen_runtime.errors import InvalidArgument

T = TypeVar("T")
M = TypeVar("M", bound=Message)
_DEFAULT = object()  # "keep the dataclass default"


_PREFIXES: dict[str, str] = {}


def _enum_prefix(desc: EnumDescriptor) -> str:
    prefix = _PREFIXES.get(desc.full_name)
    if prefix is None:
        prefix = _PREFIXES[desc.full_name] = re.sub(r"(?<!^)(?=[A-Z])", "_", desc.name).upper() + "_"
    return prefix


_HINTS: dict[type[Any], dict[str, Any]] = {}
_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fields(cls: type[Any]) -> tuple[str, ...]:
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return _FIELDS[cls]


def _unwrap_optional(kind: Any) -> Any:
    if typing.get_origin(kind) in (typing.Union, __import__("types").UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        return args[0]
    return kind


@overload
def timestamp(value: datetime) -> timestamp_pb2.Timestamp: ...
@overload
def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None: ...
def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """A ``Timestamp`` of ``value`` (naive values are taken as UTC); ``None`` stays ``None``
    (a message field left unset)."""
    if value is None:
        return None
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value.astimezone(UTC) if value.tzinfo else value)
    return out


def duration(seconds: float) -> duration_pb2.Duration:
    """A ``Duration`` of ``seconds`` to the nanosecond (negative: zero)."""
    out = duration_pb2.Duration()
    out.FromNanoseconds(max(0, round(seconds * 1e9)))
    return out


def to_message(obj: Any, message: M) -> M:
    """Copy the dataclass ``obj`` into ``message`` (returned for chaining)."""
    desc: Any = message.DESCRIPTOR
    for name in _fields(type(obj)):
        field = desc.fields_by_name.get(name)
        if field is None:
            continue
        value = getattr(obj, name)
        if value is None:
            continue
        _set(message, field, value)
    return message


def _set(message: Message, field: FieldDescriptor, value: Any) -> None:
    name = field.name
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        getattr(message, name).update(value)
    elif field.is_repeated:
        target = getattr(message, name)
        if field.message_type is not None:
            for item in value:
                to_message(item, target.add())
        else:
            target.extend(value)
    elif field.message_type is not None:
        if isinstance(value, datetime):
            getattr(message, name).CopyFrom(timestamp(value))
        else:
            to_message(value, getattr(message, name))
    elif field.enum_type is not None:
        setattr(message, name, field.enum_type.values_by_name[_enum_prefix(field.enum_type) + value.value].number)
    else:
        setattr(message, name, value)


# Per (dataclass, message type): the shared fields with their resolved kinds.
# Resolving type hints on every call was most of the mapping's cost.
_PLANS: dict[tuple[type[Any], str], tuple[tuple[str, FieldDescriptor, Any, bool], ...]] = {}


def _plan(cls: type[Any], desc: Any) -> tuple[tuple[str, FieldDescriptor, Any, bool], ...]:
    key = (cls, desc.full_name)
    plan = _PLANS.get(key)
    if plan is None:
        hints = _hints(cls)
        steps = []
        for name in _fields(cls):
            field = desc.fields_by_name.get(name)
            if field is not None:
                kind = _unwrap_optional(hints[name])
                steps.append((name, field, kind, kind is not hints[name]))
        plan = _PLANS[key] = tuple(steps)
    return plan


def from_message(message: Message, cls: type[T], *, path: str = "") -> T:
    """Build the dataclass ``cls`` from ``message``; unset sub-messages become None/defaults.

    An enum number the contract does not define (a client may send any int)
    is INVALID_ARGUMENT naming the field under ``path``."""
    values: dict[str, Any] = {}
    for name, field, kind, optional in _plan(cls, message.DESCRIPTOR):
        value = _get(message, field, kind, optional=optional, path=f"{path}.{name}" if path else name)
        if value is not _DEFAULT:
            values[name] = value
    return cls(**values)


def _get(message: Message, field: FieldDescriptor, kind: Any, *, optional: bool, path: str) -> Any:
    name = field.name
    raw = getattr(message, name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return dict(raw)
    if field.is_repeated:
        (item_kind,) = typing.get_args(kind)
        if field.message_type is not None:
            return [from_message(item, item_kind, path=f"{path}[{i}]") for i, item in enumerate(raw)]
        return list(raw)
    if field.message_type is not None:
        if not message.HasField(name):
            return None if optional else kind()
        if isinstance(raw, timestamp_pb2.Timestamp):
            try:
                return raw.ToDatetime(tzinfo=UTC)
            except (ValueError, OverflowError):
                raise InvalidArgument.for_field(path, "is not a time between years 1 and 9999") from None
        return from_message(raw, kind, path=path)
    if field.enum_type is not None and isinstance(kind, type) and issubclass(kind, Enum):
        known = field.enum_type.values_by_number.get(raw)
        if known is None:
            names = ", ".join(v.name for v in field.enum_type.values if v.number)
            raise InvalidArgument.for_field(path, f"unknown value {raw}; use one of {names}")
        try:
            return kind(known.name.removeprefix(_enum_prefix(field.enum_type)))
        except ValueError:  # e.g. *_UNSPECIFIED where the domain has no such value
            return _DEFAULT
    return raw
