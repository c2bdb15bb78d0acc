"""Use cases of the inference proxy and the resilience around every model call."""
