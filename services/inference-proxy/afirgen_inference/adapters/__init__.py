"""Adapters to the model servers over HTTP (httpx)."""
