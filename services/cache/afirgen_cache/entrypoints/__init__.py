"""gRPC entrypoint."""
