"""gRPC callers: health, reflection, passthrough through Envoy, error details."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import grpc
import pytest
from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from scripts.devstack.stack import Stack

pytestmark = pytest.mark.e2e
GRPCURL = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "grpcurl"


async def test_health_reports_serving_for_every_service(fir_channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(fir_channel)
    for name in ("", "afirgen.fir.v1.FirService", "afirgen.fir.v1.LegalSectionService"):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_services(fir_channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(fir_channel)

    async def requests():  # type: ignore[no-untyped-def]
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    async for reply in stub.ServerReflectionInfo(requests()):
        names = {s.name for s in reply.list_services_response.service}
        assert {"afirgen.fir.v1.FirService", "grpc.health.v1.Health"} <= names
        break


def test_grpcurl_describes_the_fir_service_by_reflection(stack: Stack) -> None:
    out = subprocess.run(
        [
            str(GRPCURL),
            "-plaintext",
            f"127.0.0.1:{stack.cfg.fir_port}",
            "describe",
            "afirgen.fir.v1.FirService",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert "rpc GetFir" in out and "rpc ListFirs" in out


async def test_grpc_through_envoy_with_error_details(edge_channel: grpc.aio.Channel) -> None:
    stub = fir_pb2_grpc.FirServiceStub(edge_channel)
    request_id = str(uuid.uuid4())
    call = stub.GetFir(fir_pb2.GetFirRequest(id=str(uuid.uuid4())), metadata=(("x-request-id", request_id),))
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call
    err = exc.value
    assert err.code() == grpc.StatusCode.NOT_FOUND
    details = dict(err.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    assert info.reason == "FIR_NOT_FOUND" and info.domain == "fir.afirgen"
    # The edge gives every request an id of its own (a UUID), whatever the client sent.
    edge_id = dict(await call.initial_metadata())["x-request-id"]
    assert edge_id != request_id and str(uuid.UUID(edge_id)) == edge_id


async def test_create_and_read_over_grpc(edge_channel: grpc.aio.Channel, station: str) -> None:
    stub = fir_pb2_grpc.FirServiceStub(edge_channel)
    created = await stub.CreateFir(
        fir_pb2.CreateFirRequest(
            fir=fir_pb2.Fir(station=fir_pb2.Station(code=station), complainant=fir_pb2.Complainant(name="Lata"))
        )
    )
    call = stub.GetFir(fir_pb2.GetFirRequest(id=created.id))
    got = await call
    assert got == created
    headers = dict(await call.initial_metadata())
    assert headers["etag"] == f'"{created.etag}"'


async def test_a_grpc_caller_naming_the_json_header_still_gets_the_message(
    edge_channel: grpc.aio.Channel, station: str
) -> None:
    # The edge removes the header REST calls are marked with before it marks them itself.
    stub = fir_pb2_grpc.FirServiceStub(edge_channel)
    fir = fir_pb2.Fir(station=fir_pb2.Station(code=station), complainant=fir_pb2.Complainant(name="Lata"))
    created = await stub.CreateFir(fir_pb2.CreateFirRequest(fir=fir))
    got = await stub.GetFir(fir_pb2.GetFirRequest(id=created.id), metadata=(("x-afirgen-json", "1"),))
    assert got == created
