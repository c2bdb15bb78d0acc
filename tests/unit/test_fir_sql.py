"""The FIR repository's column lists agree with the domain and with the values written."""

from __future__ import annotations

from afirgen_fir.adapters import sql
from afirgen_fir.adapters.mysql_repository import _mutable_values
from afirgen_fir.domain.model import EDITABLE_FIELDS, Fir


def test_an_edit_writes_one_value_per_mutable_column() -> None:
    assert len(_mutable_values(Fir())) == len(sql.MUTABLE_COLUMNS)


def test_every_editable_field_has_its_columns_written_by_an_edit() -> None:
    missing = {name for name in EDITABLE_FIELDS if not set(sql.FIELD_COLUMNS[name]) <= set(sql.MUTABLE_COLUMNS)}
    assert missing == set()
