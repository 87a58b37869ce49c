"""The bench's reference: a minimal Python Worker that only forwards a chat request to the AI binding,
whole or streamed (each upstream event read, decoded, parsed, re-encoded as an OpenAI chunk, written)."""
import codecs
import json

import js
from pyodide.ffi import to_js
from workers import Response, WorkerEntrypoint

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        body = await request.json()
        if body.get("stream"):
            upstream = await self.env.AI.run(MODEL, {"messages": body["messages"], "stream": True}, {})
            stream = js.TransformStream.new()
            self.ctx.waitUntil(forward(upstream, stream.writable.getWriter()))
            init = to_js({"headers": {"content-type": "text/event-stream"}}, dict_converter=js.Object.fromEntries)
            return js.Response.new(stream.readable, init)
        result = await self.env.AI.run(MODEL, {"messages": body["messages"]}, {})
        message = {"role": "assistant", "content": result["response"]}
        return Response.json({"object": "chat.completion",
                              "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})


async def forward(upstream, writer):
    reader, decoder, encoder = upstream.getReader(), codecs.getincrementaldecoder("utf-8")(), js.TextEncoder.new()
    buffer = ""
    while True:
        chunk = await reader.read()
        if chunk.done:
            break
        buffer += decoder.decode(chunk.value.to_bytes())
        *events, buffer = buffer.split("\n\n")
        for event in events:
            data = event[len("data: "):]
            if data == "[DONE]":
                break
            delta = {"content": json.loads(data).get("response", "")}
            frame = json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]})
            await writer.write(encoder.encode(f"data: {frame}\n\n"))
    await writer.write(encoder.encode("data: [DONE]\n\n"))
    await writer.close()
