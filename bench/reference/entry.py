"""The bench's reference: a minimal Python Worker that only forwards a chat request to the AI binding."""
from workers import Response, WorkerEntrypoint

MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        body = await request.json()
        result = await self.env.AI.run(MODEL, {"messages": body["messages"]}, {})
        message = {"role": "assistant", "content": result["response"]}
        return Response.json({"object": "chat.completion",
                              "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
