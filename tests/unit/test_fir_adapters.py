"""fir adapters without I/O: the repository's column lists agree with the domain and with the
values written; a prompt becomes the inference proxy's request."""

from __future__ import annotations

from afirgen.inference.v1 import inference_pb2
from afirgen_fir.adapters import sql
from afirgen_fir.adapters.inference_client import _reply, _request
from afirgen_fir.adapters.mysql_repository import _mutable_values
from afirgen_fir.domain.model import EDITABLE_FIELDS, Fir
from afirgen_fir.service_layer.ports import Prompt
from google.protobuf.duration_pb2 import Duration


def test_an_edit_writes_one_value_per_mutable_column() -> None:
    assert len(_mutable_values(Fir())) == len(sql.MUTABLE_COLUMNS)


def test_every_editable_field_has_its_columns_written_by_an_edit() -> None:
    missing = {name for name in EDITABLE_FIELDS if not set(sql.FIELD_COLUMNS[name]) <= set(sql.MUTABLE_COLUMNS)}
    assert missing == set()


def test_a_prompt_is_sent_as_a_greedy_generate_request() -> None:
    prompt = Prompt([("system", "be brief"), ("user", "hello")], max_tokens=40, stop=("\n\n",))
    assert _request(prompt) == inference_pb2.GenerateRequest(
        messages=[
            inference_pb2.ChatMessage(role="system", content="be brief"),
            inference_pb2.ChatMessage(role="user", content="hello"),
        ],
        sampling=inference_pb2.SamplingParams(temperature=0.0, max_tokens=40, stop=["\n\n"]),
    )


def test_a_reply_keeps_the_model_time_and_queue_wait_below_a_millisecond() -> None:
    usage = inference_pb2.Usage(model_time=Duration(nanos=1_650_000), queue_time=Duration(nanos=250_000))
    reply = _reply("text", "smollm2", usage)
    assert (reply.model_millis, reply.queue_millis) == (1.65, 0.25)
