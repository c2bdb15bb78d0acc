import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FirStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIR_STATUS_UNSPECIFIED: _ClassVar[FirStatus]
    FIR_STATUS_DRAFT: _ClassVar[FirStatus]
    FIR_STATUS_FINALIZED: _ClassVar[FirStatus]

class ComplaintSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPLAINT_SOURCE_UNSPECIFIED: _ClassVar[ComplaintSource]
    COMPLAINT_SOURCE_TEXT: _ClassVar[ComplaintSource]
    COMPLAINT_SOURCE_AUDIO: _ClassVar[ComplaintSource]
    COMPLAINT_SOURCE_IMAGE: _ClassVar[ComplaintSource]
    COMPLAINT_SOURCE_MANUAL: _ClassVar[ComplaintSource]

class FactKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FACT_KIND_UNSPECIFIED: _ClassVar[FactKind]
    FACT_KIND_DATE: _ClassVar[FactKind]
    FACT_KIND_TIME: _ClassVar[FactKind]
    FACT_KIND_PHONE: _ClassVar[FactKind]
    FACT_KIND_VEHICLE: _ClassVar[FactKind]
    FACT_KIND_AMOUNT: _ClassVar[FactKind]

class FirPart(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FIR_PART_UNSPECIFIED: _ClassVar[FirPart]
    FIR_PART_SUMMARY: _ClassVar[FirPart]
    FIR_PART_LEGAL_SECTIONS: _ClassVar[FirPart]
    FIR_PART_NARRATIVE: _ClassVar[FirPart]
FIR_STATUS_UNSPECIFIED: FirStatus
FIR_STATUS_DRAFT: FirStatus
FIR_STATUS_FINALIZED: FirStatus
COMPLAINT_SOURCE_UNSPECIFIED: ComplaintSource
COMPLAINT_SOURCE_TEXT: ComplaintSource
COMPLAINT_SOURCE_AUDIO: ComplaintSource
COMPLAINT_SOURCE_IMAGE: ComplaintSource
COMPLAINT_SOURCE_MANUAL: ComplaintSource
FACT_KIND_UNSPECIFIED: FactKind
FACT_KIND_DATE: FactKind
FACT_KIND_TIME: FactKind
FACT_KIND_PHONE: FactKind
FACT_KIND_VEHICLE: FactKind
FACT_KIND_AMOUNT: FactKind
FIR_PART_UNSPECIFIED: FirPart
FIR_PART_SUMMARY: FirPart
FIR_PART_LEGAL_SECTIONS: FirPart
FIR_PART_NARRATIVE: FirPart

class Station(_message.Message):
    __slots__ = ("code", "name", "district", "state")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    district: str
    state: str
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., district: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class Complainant(_message.Message):
    __slots__ = ("name", "parent_or_spouse_name", "date_of_birth", "nationality", "occupation", "address", "phone", "email")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_OR_SPOUSE_NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    NATIONALITY_FIELD_NUMBER: _ClassVar[int]
    OCCUPATION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    parent_or_spouse_name: str
    date_of_birth: Date
    nationality: str
    occupation: str
    address: str
    phone: str
    email: str
    def __init__(self, name: _Optional[str] = ..., parent_or_spouse_name: _Optional[str] = ..., date_of_birth: _Optional[_Union[Date, _Mapping]] = ..., nationality: _Optional[str] = ..., occupation: _Optional[str] = ..., address: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class Incident(_message.Message):
    __slots__ = ("occurred_from", "occurred_to", "place", "address", "distance_km", "direction_from_station", "reporting_delay_hours", "delay_reason", "place_source", "occurred_source")
    OCCURRED_FROM_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_TO_FIELD_NUMBER: _ClassVar[int]
    PLACE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FROM_STATION_FIELD_NUMBER: _ClassVar[int]
    REPORTING_DELAY_HOURS_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASON_FIELD_NUMBER: _ClassVar[int]
    PLACE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_SOURCE_FIELD_NUMBER: _ClassVar[int]
    occurred_from: _timestamp_pb2.Timestamp
    occurred_to: _timestamp_pb2.Timestamp
    place: str
    address: str
    distance_km: float
    direction_from_station: str
    reporting_delay_hours: float
    delay_reason: str
    place_source: SourceSpan
    occurred_source: SourceSpan
    def __init__(self, occurred_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occurred_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., place: _Optional[str] = ..., address: _Optional[str] = ..., distance_km: _Optional[float] = ..., direction_from_station: _Optional[str] = ..., reporting_delay_hours: _Optional[float] = ..., delay_reason: _Optional[str] = ..., place_source: _Optional[_Union[SourceSpan, _Mapping]] = ..., occurred_source: _Optional[_Union[SourceSpan, _Mapping]] = ...) -> None: ...

class SourceSpan(_message.Message):
    __slots__ = ("start", "end", "text")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    text: str
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class StatedFact(_message.Message):
    __slots__ = ("kind", "value", "source")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    kind: FactKind
    value: str
    source: SourceSpan
    def __init__(self, kind: _Optional[_Union[FactKind, str]] = ..., value: _Optional[str] = ..., source: _Optional[_Union[SourceSpan, _Mapping]] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("name", "address", "description", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    description: str
    source: SourceSpan
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., description: _Optional[str] = ..., source: _Optional[_Union[SourceSpan, _Mapping]] = ...) -> None: ...

class Property(_message.Message):
    __slots__ = ("description", "value_inr", "source")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VALUE_INR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    description: str
    value_inr: float
    source: SourceSpan
    def __init__(self, description: _Optional[str] = ..., value_inr: _Optional[float] = ..., source: _Optional[_Union[SourceSpan, _Mapping]] = ...) -> None: ...

class Complaint(_message.Message):
    __slots__ = ("source", "text", "language")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    source: ComplaintSource
    text: str
    language: str
    def __init__(self, source: _Optional[_Union[ComplaintSource, str]] = ..., text: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class LegalSectionRef(_message.Message):
    __slots__ = ("act", "section", "title", "reason", "triggers")
    ACT_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    act: str
    section: str
    title: str
    reason: str
    triggers: _containers.RepeatedCompositeFieldContainer[SourceSpan]
    def __init__(self, act: _Optional[str] = ..., section: _Optional[str] = ..., title: _Optional[str] = ..., reason: _Optional[str] = ..., triggers: _Optional[_Iterable[_Union[SourceSpan, _Mapping]]] = ...) -> None: ...

class Officer(_message.Message):
    __slots__ = ("name", "rank")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    name: str
    rank: str
    def __init__(self, name: _Optional[str] = ..., rank: _Optional[str] = ...) -> None: ...

class GenerationInfo(_message.Message):
    __slots__ = ("model", "prompt_version", "stage_millis", "deterministic_parts")
    class StageMillisEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_VERSION_FIELD_NUMBER: _ClassVar[int]
    STAGE_MILLIS_FIELD_NUMBER: _ClassVar[int]
    DETERMINISTIC_PARTS_FIELD_NUMBER: _ClassVar[int]
    model: str
    prompt_version: str
    stage_millis: _containers.ScalarMap[str, float]
    deterministic_parts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., prompt_version: _Optional[str] = ..., stage_millis: _Optional[_Mapping[str, float]] = ..., deterministic_parts: _Optional[_Iterable[str]] = ...) -> None: ...

class Fir(_message.Message):
    __slots__ = ("id", "fir_number", "status", "station", "complainant", "incident", "accused", "witnesses", "properties", "complaint", "summary", "narrative", "legal_sections", "action_taken", "investigating_officer", "generation", "create_time", "update_time", "finalize_time", "etag", "facts")
    ID_FIELD_NUMBER: _ClassVar[int]
    FIR_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATION_FIELD_NUMBER: _ClassVar[int]
    COMPLAINANT_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    ACCUSED_FIELD_NUMBER: _ClassVar[int]
    WITNESSES_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    COMPLAINT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    NARRATIVE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_SECTIONS_FIELD_NUMBER: _ClassVar[int]
    ACTION_TAKEN_FIELD_NUMBER: _ClassVar[int]
    INVESTIGATING_OFFICER_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FINALIZE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    fir_number: str
    status: FirStatus
    station: Station
    complainant: Complainant
    incident: Incident
    accused: _containers.RepeatedCompositeFieldContainer[Person]
    witnesses: _containers.RepeatedCompositeFieldContainer[Person]
    properties: _containers.RepeatedCompositeFieldContainer[Property]
    complaint: Complaint
    summary: str
    narrative: str
    legal_sections: _containers.RepeatedCompositeFieldContainer[LegalSectionRef]
    action_taken: str
    investigating_officer: Officer
    generation: GenerationInfo
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    finalize_time: _timestamp_pb2.Timestamp
    etag: str
    facts: _containers.RepeatedCompositeFieldContainer[StatedFact]
    def __init__(self, id: _Optional[str] = ..., fir_number: _Optional[str] = ..., status: _Optional[_Union[FirStatus, str]] = ..., station: _Optional[_Union[Station, _Mapping]] = ..., complainant: _Optional[_Union[Complainant, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ..., accused: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., witnesses: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., properties: _Optional[_Iterable[_Union[Property, _Mapping]]] = ..., complaint: _Optional[_Union[Complaint, _Mapping]] = ..., summary: _Optional[str] = ..., narrative: _Optional[str] = ..., legal_sections: _Optional[_Iterable[_Union[LegalSectionRef, _Mapping]]] = ..., action_taken: _Optional[str] = ..., investigating_officer: _Optional[_Union[Officer, _Mapping]] = ..., generation: _Optional[_Union[GenerationInfo, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finalize_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., facts: _Optional[_Iterable[_Union[StatedFact, _Mapping]]] = ...) -> None: ...

class CreateFirRequest(_message.Message):
    __slots__ = ("fir", "request_id")
    FIR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    fir: Fir
    request_id: str
    def __init__(self, fir: _Optional[_Union[Fir, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GenerateFirRequest(_message.Message):
    __slots__ = ("text", "audio", "image", "language", "complainant", "station", "investigating_officer", "request_id")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    COMPLAINANT_FIELD_NUMBER: _ClassVar[int]
    STATION_FIELD_NUMBER: _ClassVar[int]
    INVESTIGATING_OFFICER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    text: str
    audio: bytes
    image: bytes
    language: str
    complainant: Complainant
    station: Station
    investigating_officer: Officer
    request_id: str
    def __init__(self, text: _Optional[str] = ..., audio: _Optional[bytes] = ..., image: _Optional[bytes] = ..., language: _Optional[str] = ..., complainant: _Optional[_Union[Complainant, _Mapping]] = ..., station: _Optional[_Union[Station, _Mapping]] = ..., investigating_officer: _Optional[_Union[Officer, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GenerateFirEvent(_message.Message):
    __slots__ = ("stage", "text_delta", "fir", "error")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    FIR_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    stage: str
    text_delta: str
    fir: Fir
    error: _status_pb2.Status
    def __init__(self, stage: _Optional[str] = ..., text_delta: _Optional[str] = ..., fir: _Optional[_Union[Fir, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class GetFirRequest(_message.Message):
    __slots__ = ("id", "read_mask")
    ID_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    id: str
    read_mask: _field_mask_pb2.FieldMask
    def __init__(self, id: _Optional[str] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class ListFirsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter", "order_by", "read_mask")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: str
    order_by: str
    read_mask: _field_mask_pb2.FieldMask
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class ListFirsResponse(_message.Message):
    __slots__ = ("firs", "next_page_token", "total_size")
    FIRS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    firs: _containers.RepeatedCompositeFieldContainer[Fir]
    next_page_token: str
    total_size: int
    def __init__(self, firs: _Optional[_Iterable[_Union[Fir, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class UpdateFirRequest(_message.Message):
    __slots__ = ("fir", "update_mask")
    FIR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    fir: Fir
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, fir: _Optional[_Union[Fir, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class RegenerateFirRequest(_message.Message):
    __slots__ = ("id", "part", "guidance", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    part: FirPart
    guidance: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., part: _Optional[_Union[FirPart, str]] = ..., guidance: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class FinalizeFirRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class GetFirStatsRequest(_message.Message):
    __slots__ = ("filter", "days")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    filter: str
    days: int
    def __init__(self, filter: _Optional[str] = ..., days: _Optional[int] = ...) -> None: ...

class FirCount(_message.Message):
    __slots__ = ("key", "count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class FirStats(_message.Message):
    __slots__ = ("total", "by_status", "by_station", "by_section", "by_day")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    BY_STATION_FIELD_NUMBER: _ClassVar[int]
    BY_SECTION_FIELD_NUMBER: _ClassVar[int]
    BY_DAY_FIELD_NUMBER: _ClassVar[int]
    total: int
    by_status: _containers.RepeatedCompositeFieldContainer[FirCount]
    by_station: _containers.RepeatedCompositeFieldContainer[FirCount]
    by_section: _containers.RepeatedCompositeFieldContainer[FirCount]
    by_day: _containers.RepeatedCompositeFieldContainer[FirCount]
    def __init__(self, total: _Optional[int] = ..., by_status: _Optional[_Iterable[_Union[FirCount, _Mapping]]] = ..., by_station: _Optional[_Iterable[_Union[FirCount, _Mapping]]] = ..., by_section: _Optional[_Iterable[_Union[FirCount, _Mapping]]] = ..., by_day: _Optional[_Iterable[_Union[FirCount, _Mapping]]] = ...) -> None: ...

class ListFirEventsRequest(_message.Message):
    __slots__ = ("id", "page_size", "page_token")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    id: str
    page_size: int
    page_token: str
    def __init__(self, id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class FirEvent(_message.Message):
    __slots__ = ("action", "actor", "changed_fields", "time", "etag", "request_id")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    action: str
    actor: str
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    time: _timestamp_pb2.Timestamp
    etag: str
    request_id: str
    def __init__(self, action: _Optional[str] = ..., actor: _Optional[str] = ..., changed_fields: _Optional[_Iterable[str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListFirEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[FirEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[FirEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetFirDocumentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class SearchLegalSectionsRequest(_message.Message):
    __slots__ = ("query", "page_size")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    query: str
    page_size: int
    def __init__(self, query: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class LegalSection(_message.Message):
    __slots__ = ("act", "section", "title", "description", "punishment", "cognizable", "bailable", "score")
    ACT_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PUNISHMENT_FIELD_NUMBER: _ClassVar[int]
    COGNIZABLE_FIELD_NUMBER: _ClassVar[int]
    BAILABLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    act: str
    section: str
    title: str
    description: str
    punishment: str
    cognizable: bool
    bailable: bool
    score: float
    def __init__(self, act: _Optional[str] = ..., section: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., punishment: _Optional[str] = ..., cognizable: _Optional[bool] = ..., bailable: _Optional[bool] = ..., score: _Optional[float] = ...) -> None: ...

class SearchLegalSectionsResponse(_message.Message):
    __slots__ = ("sections",)
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    sections: _containers.RepeatedCompositeFieldContainer[LegalSection]
    def __init__(self, sections: _Optional[_Iterable[_Union[LegalSection, _Mapping]]] = ...) -> None: ...
