"""The local stack: MariaDB, Redis, model servers, the services and Envoy on
one machine without Docker, under one supervisord. ``make up`` and the test
suite both use it (with different ports and run directories)."""
