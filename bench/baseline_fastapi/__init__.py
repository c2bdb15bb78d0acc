"""The architecture the mesh replaces, in miniature: one FastAPI process (uvicorn with
uvloop and httptools) reading the same MariaDB ``fir`` schema with a Redis
cache-aside, serving the same FIR JSON at ``GET /v1/firs/{id}``."""
