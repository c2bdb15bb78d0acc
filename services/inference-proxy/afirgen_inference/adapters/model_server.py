"""What every HTTP client of a model server shares: one replica's name and base URL, the
process's HTTP client, timeouts that bound the connect, the health probe, and a POST
whose transport failures and HTTP statuses become :class:`BackendError` subclasses
(:mod:`afirgen_inference.adapters.http_errors`)."""

from __future__ import annotations

from typing import Any

import httpx

from afirgen_inference.adapters.http_errors import check_status, json_object, translate


class HttpModelServer:
    """One replica of a model server over HTTP (``GET /health`` answers 200 when it serves)."""

    def __init__(
        self, name: str, url: str, http: httpx.AsyncClient, *, model: str = "", connect_timeout: float = 1.0
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self._http = http
        self._model = model
        self._connect = connect_timeout

    def _timeout(self, seconds: float) -> httpx.Timeout:
        """``seconds`` for each phase of the call (a free connection, connecting, sending, the
        answer), of which at most the connect timeout to connect."""
        return httpx.Timeout(seconds, connect=min(seconds, self._connect))

    async def probe(self, time_limit: float) -> None:
        """``GET /health``."""
        with translate(self.name):
            response = await self._http.get(f"{self.url}/health", timeout=self._timeout(time_limit))
        check_status(self.name, response.status_code, response.content)

    async def _post_json(self, path: str, time_limit: float, **request: Any) -> dict[str, object]:
        """POST ``request`` (httpx keyword arguments) to ``path``; the JSON object answered."""
        with translate(self.name):
            response = await self._http.post(f"{self.url}{path}", timeout=self._timeout(time_limit), **request)
        check_status(self.name, response.status_code, response.content)
        return json_object(self.name, response)
