"""Use cases of the cache service and the port they need."""
