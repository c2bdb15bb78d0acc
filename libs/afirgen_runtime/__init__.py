"""Shared runtime of every AFIRGen service: one module per mechanism.

Settings, JSON logging with redaction, request ids and the verified caller, the
error model and its mapping to ``google.rpc.Status``, the process runner of every
service and worker (health, reflection, graceful shutdown, ``/metrics``), the
client channel factory and the cache client, MySQL access with retries, single
flight, backoff, ids and idempotency keys, signed page tokens, the filter
language, retention purges and migrations. Nothing here connects at import time.
"""
