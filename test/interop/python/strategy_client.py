"""A Python strategy engine's view of tradingcore, as the interop tests drive it.

Registers positions, publishes ticks, exits one (twice), reads the tracker,
squares off the rest with ExitAll, and prints every outcome as one JSON object.
Stubs are generated from proto/ at test time with grpcio-tools:

    python -m grpc_tools.protoc -I proto --python_out=GEN --grpc_python_out=GEN \
        proto/tradingcore/v1/*.proto
    python strategy_client.py --gen GEN --address 127.0.0.1:50051
"""
import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gen", required=True, help="directory holding the generated tradingcore/v1 stubs")
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--prefix", default="py", help="order_no prefix")
    parser.add_argument("--token", default="", help="bearer token, when the server wants one")
    args = parser.parse_args()
    sys.path.insert(0, args.gen)

    import grpc
    from tradingcore.v1 import common_pb2, exit_pb2, exit_pb2_grpc, tick_pb2, tick_pb2_grpc

    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []
    out = {}
    with grpc.insecure_channel(args.address) as channel:
        exits = exit_pb2_grpc.ExitServiceStub(channel)
        ticks = tick_pb2_grpc.TickServiceStub(channel)
        call = {"metadata": metadata, "timeout": 30}

        instrument = common_pb2.Instrument(segment=common_pb2.SEGMENT_NSE_FNO, security_id="35001")
        order_nos = [f"{args.prefix}-{n}" for n in (1, 2, 3)]
        for order_no in order_nos:
            registered = exits.RegisterTracker(
                exit_pb2.RegisterTrackerRequest(
                    order_no=order_no, segment=instrument.segment, security_id=instrument.security_id,
                    symbol="BANKNIFTY24DEC52000PE", side=common_pb2.SIDE_LONG, quantity="30",
                    entry_price="245.10", paper=True,
                ),
                **call,
            )
            out.setdefault("created", registered.created)

        batches = iter([tick_pb2.PublishTicksRequest(ticks=[tick_pb2.Tick(instrument=instrument, ltp="251.85")])])
        out["ticksAccepted"] = ticks.PublishTicks(batches, **call).accepted
        out["ltp"] = ticks.GetLtp(tick_pb2.GetLtpRequest(instrument=instrument), **call).ltp.price

        first = exits.ExecuteExit(
            exit_pb2.ExecuteExitRequest(order_no=order_nos[0], reason="target hit", reason_code=common_pb2.EXIT_REASON_CODE_TAKE_PROFIT),
            **call,
        ).result
        out["firstExit"] = common_pb2.ExitStatus.Name(first.status)
        out["firstExitPrice"] = first.exit_price
        out["firstSuccess"] = first.success
        second = exits.ExecuteExit(exit_pb2.ExecuteExitRequest(order_no=order_nos[0], reason="target hit"), **call).result
        out["secondExit"] = common_pb2.ExitStatus.Name(second.status)

        tracker = exits.GetTracker(exit_pb2.GetTrackerRequest(order_no=order_nos[0]), **call).tracker
        out["trackerStatus"] = common_pb2.TrackerStatus.Name(tracker.status)
        try:
            exits.GetTracker(exit_pb2.GetTrackerRequest(order_no=f"{args.prefix}-missing"), **call)
            out["missingTracker"] = "OK"
        except grpc.RpcError as error:
            out["missingTracker"] = error.code().name

        # Padding around a decimal is refused in a short message: a long grpc-message made grpcio fail the call otherwise.
        try:
            exits.RegisterTracker(
                exit_pb2.RegisterTrackerRequest(
                    order_no=f"{args.prefix}-padded", segment=instrument.segment, security_id=instrument.security_id,
                    side=common_pb2.SIDE_LONG, quantity=" " * 200_000 + "-1", entry_price="1",
                ),
                **call,
            )
            out["paddedQuantity"] = "OK"
        except grpc.RpcError as error:
            out["paddedQuantity"] = error.code().name
            out["paddedQuantityDetailsShort"] = len(error.details() or "") < 100

        statuses = []
        try:
            for response in exits.ExitAll(
                exit_pb2.ExitAllRequest(segment=common_pb2.SEGMENT_NSE_FNO, reason="session end", reason_code=common_pb2.EXIT_REASON_CODE_SESSION_END),
                **call,
            ):
                statuses.append(common_pb2.ExitStatus.Name(response.result.status))
            out["exitAll"] = "OK"
        except grpc.RpcError as error:
            out["exitAll"] = error.code().name
        out["exitAllStatuses"] = statuses

        if args.token:
            try:
                exits.GetTracker(exit_pb2.GetTrackerRequest(order_no=order_nos[0]), timeout=30)
                out["unauthenticated"] = "OK"
            except grpc.RpcError as error:
                out["unauthenticated"] = error.code().name

    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
