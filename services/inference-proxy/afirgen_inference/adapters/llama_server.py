"""Client of one OpenAI-compatible chat server (llama.cpp's ``llama-server``).

JSON output is constrained with ``response_format: {"type": "json_object",
"schema": ...}``, which llama-server turns into a decoding grammar; streaming
uses server-sent events with ``stream_options.include_usage`` for the counts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from afirgen_inference.adapters.http_errors import check_status, translate
from afirgen_inference.adapters.model_server import HttpModelServer
from afirgen_inference.domain.errors import BackendFailed
from afirgen_inference.domain.model import Completion, GenerateCall, TextDelta


def chat_body(call: GenerateCall, model: str, *, stream: bool) -> dict[str, Any]:
    """The ``/v1/chat/completions`` request body for ``call``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in call.messages],
        "temperature": call.sampling.temperature,
        "max_tokens": call.sampling.max_tokens,
        "stream": stream,
    }
    if call.sampling.top_p:
        body["top_p"] = call.sampling.top_p
    if call.sampling.seed:
        body["seed"] = call.sampling.seed
    if call.sampling.stop:
        body["stop"] = list(call.sampling.stop)
    if call.json_schema is not None:
        body["response_format"] = {"type": "json_object", "schema": call.json_schema}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def _usage(payload: dict[str, Any]) -> tuple[int, int]:
    usage = payload.get("usage") or {}
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


def parse_completion(replica: str, payload: dict[str, Any]) -> Completion:
    """A :class:`Completion` from a non-streaming answer."""
    try:
        choice = payload["choices"][0]
        text = choice["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        raise BackendFailed(f"{replica} answered without choices[0].message.content") from None
    prompt, completion = _usage(payload)
    return Completion(
        text=str(text),
        finish_reason=str(choice.get("finish_reason") or "stop"),
        prompt_tokens=prompt,
        completion_tokens=completion,
    )


class SseCompletionStream:
    """The server-sent events of one streamed completion."""

    def __init__(self, replica: str, response: httpx.Response) -> None:
        self._replica = replica
        self._response = response

    async def events(self) -> AsyncIterator[TextDelta | Completion]:
        """Deltas, then a :class:`Completion` with the finish reason and token counts."""
        finish, prompt, completion = "stop", 0, 0
        lines = self._response.aiter_lines()
        while True:
            with translate(self._replica):
                try:
                    line = await anext(lines)
                except StopAsyncIteration:
                    break
            if line.startswith("error:"):
                raise BackendFailed(f"{self._replica} failed mid-stream: {line[6:].strip()[:200]}")
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                raise BackendFailed(f"{self._replica} sent an event that is not JSON") from None
            if "error" in chunk:
                raise BackendFailed(f"{self._replica} failed mid-stream: {str(chunk['error'])[:200]}")
            if chunk.get("usage"):
                prompt, completion = _usage(chunk)
            for choice in chunk.get("choices") or ():
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    yield TextDelta(str(delta))
                if choice.get("finish_reason"):
                    finish = str(choice["finish_reason"])
        yield Completion(text="", finish_reason=finish, prompt_tokens=prompt, completion_tokens=completion)

    async def aclose(self) -> None:
        """Close the HTTP response."""
        await self._response.aclose()


class LlamaServer(HttpModelServer):
    """One llama-server replica (``GET /health`` answers 503 while the model loads)."""

    async def complete(self, call: GenerateCall, time_limit: float) -> Completion:
        """One chat completion."""
        payload = await self._post_json(
            "/v1/chat/completions", time_limit, json=chat_body(call, self._model, stream=False)
        )
        return parse_completion(self.name, payload)

    async def open_stream(self, call: GenerateCall, time_limit: float) -> SseCompletionStream:
        """Start a streamed completion; HTTP errors are raised before any piece."""
        request = self._http.build_request(
            "POST",
            f"{self.url}/v1/chat/completions",
            json=chat_body(call, self._model, stream=True),
            timeout=self._timeout(time_limit),
        )
        with translate(self.name):
            response = await self._http.send(request, stream=True)
        if response.status_code != 200:
            with translate(self.name):
                body = await response.aread()
            await response.aclose()
            check_status(self.name, response.status_code, body)
        return SseCompletionStream(self.name, response)
