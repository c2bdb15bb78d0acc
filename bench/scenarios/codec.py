"""Where a cache hit's CPU goes, in process, for one ~2 KB FIR: the hit path (read the
entry's header, check the reader's scope, send the message bytes as they are) against
plain protobuf parse/serialize of the same bytes, and against decoding the entry into
the domain FIR and mapping it back (what a hit cost before it was served as bytes)."""

from __future__ import annotations

import timeit

from bench.scenarios import Context, Skip
from bench.seed import hot_fir_body

CALLS = 500


def run(ctx: Context) -> None:
    """Time decode + map (the hit path) and raw parse + serialize, per FIR."""
    try:
        from afirgen.fir.v1 import fir_pb2
        from afirgen_fir.adapters.fir_codec import decode_fir, decode_serialized, encode_fir
        from afirgen_fir.domain.access import Scope
        from afirgen_fir.domain.model import Fir
        from afirgen_fir.entrypoints.grpc_servicer import fir_to_proto
        from afirgen_runtime.proto_mapping import from_message
        from google.protobuf import json_format
    except ImportError as exc:
        raise Skip(f"the fir service's codec is not importable: {exc}") from None
    message = json_format.ParseDict(hot_fir_body(1), fir_pb2.Fir(), ignore_unknown_fields=True)
    message.id, message.status = "0" * 36, fir_pb2.FIR_STATUS_FINALIZED
    fir = from_message(message, Fir)
    data = encode_fir(fir)
    raw = message.SerializeToString()

    def per_call_us(fn: object) -> float:
        return timeit.timeit(fn, number=CALLS) / CALLS * 1e6  # type: ignore[arg-type]

    scope = Scope(station=fir.station.code)

    def bytes_hit() -> bytes:
        found = decode_serialized(fir.id, data)
        assert scope.covers_station(found.station, found.district)
        return found.data

    f = ctx.results.figures
    f["codec.hit_path_us"] = per_call_us(bytes_hit)
    f["codec.decode_map_us"] = per_call_us(lambda: fir_to_proto(decode_fir(data)).SerializeToString())
    f["codec.raw_bytes_us"] = per_call_us(lambda: fir_pb2.Fir.FromString(raw).SerializeToString())
    f["codec.hit_path_over_raw"] = f["codec.hit_path_us"] / max(f["codec.raw_bytes_us"], 1e-3)
    f["codec.decode_map_over_raw"] = f["codec.decode_map_us"] / max(f["codec.raw_bytes_us"], 1e-3)
    ctx.log(
        f"  one FIR: bytes hit {f['codec.hit_path_us']:.1f} us, decode+map {f['codec.decode_map_us']:.0f} us,"
        f" raw protobuf parse+serialize {f['codec.raw_bytes_us']:.1f} us"
    )
