"""Jobs service: a durable job queue in MySQL with priorities, retries with
backoff, leases for crashed workers, dead letters and status tracking.

Two processes share this package: the gRPC service (``python -m afirgen_jobs``)
that enqueues and tracks jobs, and the worker (``python -m afirgen_jobs.worker``)
that claims jobs and delivers them to the owning service's ``JobHandler``.
"""
