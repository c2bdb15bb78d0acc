import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetEntryRequest(_message.Message):
    __slots__ = ("namespace", "key", "max_wait")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MAX_WAIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    max_wait: _duration_pb2.Duration
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., max_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetEntryResponse(_message.Message):
    __slots__ = ("found", "value", "should_refresh", "lease")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SHOULD_REFRESH_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    found: bool
    value: bytes
    should_refresh: bool
    lease: int
    def __init__(self, found: _Optional[bool] = ..., value: _Optional[bytes] = ..., should_refresh: _Optional[bool] = ..., lease: _Optional[int] = ...) -> None: ...

class BatchGetEntriesRequest(_message.Message):
    __slots__ = ("namespace", "keys")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetEntriesResponse(_message.Message):
    __slots__ = ("values", "lease")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    values: _containers.ScalarMap[str, bytes]
    lease: int
    def __init__(self, values: _Optional[_Mapping[str, bytes]] = ..., lease: _Optional[int] = ...) -> None: ...

class SetEntryRequest(_message.Message):
    __slots__ = ("namespace", "key", "value", "ttl", "compute_time", "lease")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: str
    value: bytes
    ttl: _duration_pb2.Duration
    compute_time: _duration_pb2.Duration
    lease: int
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[bytes] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., compute_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., lease: _Optional[int] = ...) -> None: ...

class SetEntryResponse(_message.Message):
    __slots__ = ("stored",)
    STORED_FIELD_NUMBER: _ClassVar[int]
    stored: bool
    def __init__(self, stored: _Optional[bool] = ...) -> None: ...

class BatchSetEntriesRequest(_message.Message):
    __slots__ = ("namespace", "values", "ttl", "lease")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    values: _containers.ScalarMap[str, bytes]
    ttl: _duration_pb2.Duration
    lease: int
    def __init__(self, namespace: _Optional[str] = ..., values: _Optional[_Mapping[str, bytes]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., lease: _Optional[int] = ...) -> None: ...

class BatchSetEntriesResponse(_message.Message):
    __slots__ = ("stored",)
    STORED_FIELD_NUMBER: _ClassVar[int]
    stored: int
    def __init__(self, stored: _Optional[int] = ...) -> None: ...

class DeleteEntriesRequest(_message.Message):
    __slots__ = ("namespace", "keys")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteEntriesResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class InvalidateNamespaceRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class InvalidateNamespaceResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class GetCacheStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NamespaceStats(_message.Message):
    __slots__ = ("namespace", "hits", "misses", "hit_ratio", "sets", "invalidations", "errors", "default_ttl", "deletes", "stale_sets", "early_refreshes", "fill_waits")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    HIT_RATIO_FIELD_NUMBER: _ClassVar[int]
    SETS_FIELD_NUMBER: _ClassVar[int]
    INVALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TTL_FIELD_NUMBER: _ClassVar[int]
    DELETES_FIELD_NUMBER: _ClassVar[int]
    STALE_SETS_FIELD_NUMBER: _ClassVar[int]
    EARLY_REFRESHES_FIELD_NUMBER: _ClassVar[int]
    FILL_WAITS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    hits: int
    misses: int
    hit_ratio: float
    sets: int
    invalidations: int
    errors: int
    default_ttl: _duration_pb2.Duration
    deletes: int
    stale_sets: int
    early_refreshes: int
    fill_waits: int
    def __init__(self, namespace: _Optional[str] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., hit_ratio: _Optional[float] = ..., sets: _Optional[int] = ..., invalidations: _Optional[int] = ..., errors: _Optional[int] = ..., default_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., deletes: _Optional[int] = ..., stale_sets: _Optional[int] = ..., early_refreshes: _Optional[int] = ..., fill_waits: _Optional[int] = ...) -> None: ...

class CacheStats(_message.Message):
    __slots__ = ("namespaces", "used_memory_bytes", "max_memory_bytes", "eviction_policy", "evicted_keys", "expired_keys", "eviction_policy_ok", "redis_version", "keys")
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    USED_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    EVICTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    EVICTED_KEYS_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_KEYS_FIELD_NUMBER: _ClassVar[int]
    EVICTION_POLICY_OK_FIELD_NUMBER: _ClassVar[int]
    REDIS_VERSION_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedCompositeFieldContainer[NamespaceStats]
    used_memory_bytes: int
    max_memory_bytes: int
    eviction_policy: str
    evicted_keys: int
    expired_keys: int
    eviction_policy_ok: bool
    redis_version: str
    keys: int
    def __init__(self, namespaces: _Optional[_Iterable[_Union[NamespaceStats, _Mapping]]] = ..., used_memory_bytes: _Optional[int] = ..., max_memory_bytes: _Optional[int] = ..., eviction_policy: _Optional[str] = ..., evicted_keys: _Optional[int] = ..., expired_keys: _Optional[int] = ..., eviction_policy_ok: _Optional[bool] = ..., redis_version: _Optional[str] = ..., keys: _Optional[int] = ...) -> None: ...
