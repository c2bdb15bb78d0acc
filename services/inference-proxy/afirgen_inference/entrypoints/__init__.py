"""Entry points of the inference proxy: the gRPC servicer."""
