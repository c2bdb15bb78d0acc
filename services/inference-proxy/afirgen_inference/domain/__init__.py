"""Domain of the inference proxy: requests, answers, validation. No I/O, no gRPC."""
