"""The cache service: a namespaced, leased, stampede-protected key-value cache over Redis.

Layers: ``domain`` (key layout, TTL jitter, early refresh, validation,
statistics; no I/O), ``service_layer`` (use cases and the store port),
``adapters`` (Redis), ``entrypoints`` (gRPC). ``bootstrap.build`` wires them.
"""
