"""Shared runtime of every AFIRGen service.

Settings, JSON logging with redaction, request ids, the error model and its
mapping to ``google.rpc.Status``, the gRPC server bootstrap (health, reflection,
graceful shutdown), the client channel factory, MySQL access with retries,
signed page tokens and the filter language. Nothing here connects at import time.
"""
