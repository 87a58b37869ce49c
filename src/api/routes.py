"""The route table: (method, path template) → handler, and matching with 404 vs 405 + Allow.
Handlers are named by their path in api ("resources.chat.create_chat_completion"), and a module is
imported by the first request it serves: an isolate loads only what it is asked for."""
import importlib
import re
from dataclasses import dataclass
from urllib.parse import unquote
from typing import Awaitable, Callable, Dict, List, Tuple

from api.errors import MethodNotAllowed, NotFound

Handler = Callable[..., Awaitable]
_PARAM = re.compile(r"\{(\w+)(:path)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    target: str  # "package.module.function" in api
    public: bool = False  # served without an API key (e.g. signed URLs)

    @property
    def handler(self) -> Handler:
        module, function = self.target.rsplit(".", 1)
        return getattr(importlib.import_module(f"api.{module}"), function)

    @property
    def pattern(self) -> "re.Pattern[str]":
        regex = _PARAM.sub(lambda m: f"(?P<{m[1]}>{'.+' if m[2] else '[^/]+'})", self.template)
        return re.compile(f"^{regex}$")


ROUTES: List[Route] = [
    Route("GET", "/v1/models", "resources.models.list_models"),
    Route("GET", "/v1/models/{model:path}", "resources.models.retrieve_model"),
    Route("POST", "/v1/chat/completions", "resources.chat.create_chat_completion"),
    Route("GET", "/v1/chat/completions", "resources.chat.list_chat_completions"),
    Route("GET", "/v1/chat/completions/{completion_id}", "resources.chat.retrieve_chat_completion"),
    Route("POST", "/v1/chat/completions/{completion_id}", "resources.chat.update_chat_completion"),
    Route("DELETE", "/v1/chat/completions/{completion_id}", "resources.chat.delete_chat_completion"),
    Route("GET", "/v1/chat/completions/{completion_id}/messages", "resources.chat.list_chat_completion_messages"),
    Route("POST", "/v1/completions", "resources.completions.create_completion"),
    Route("POST", "/v1/embeddings", "resources.embeddings.create_embedding"),
    Route("POST", "/v1/moderations", "resources.moderations.create_moderation"),
    Route("POST", "/v1/audio/transcriptions", "resources.audio.create_transcription"),
    Route("POST", "/v1/audio/translations", "resources.audio.create_translation"),
    Route("POST", "/v1/audio/speech", "resources.audio.create_speech"),
    Route("POST", "/v1/images/generations", "resources.images.create_image"),
    Route("POST", "/v1/images/edits", "resources.images.create_image_edit"),
    Route("POST", "/v1/images/variations", "resources.images.create_image_variation"),
    Route("GET", "/v1/images/content/{key:path}", "resources.images.retrieve_image_content", public=True),
    Route("POST", "/v1/files", "resources.files.create_file"),
    Route("GET", "/v1/files", "resources.files.list_files"),
    Route("GET", "/v1/files/{file_id}", "resources.files.retrieve_file"),
    Route("DELETE", "/v1/files/{file_id}", "resources.files.delete_file"),
    Route("GET", "/v1/files/{file_id}/content", "resources.files.retrieve_file_content"),
    Route("POST", "/v1/vector_stores", "resources.vector_stores.create_vector_store"),
    Route("GET", "/v1/vector_stores", "resources.vector_stores.list_vector_stores"),
    Route("GET", "/v1/vector_stores/{vector_store_id}", "resources.vector_stores.retrieve_vector_store"),
    Route("POST", "/v1/vector_stores/{vector_store_id}", "resources.vector_stores.modify_vector_store"),
    Route("DELETE", "/v1/vector_stores/{vector_store_id}", "resources.vector_stores.delete_vector_store"),
    Route("POST", "/v1/vector_stores/{vector_store_id}/search", "resources.vector_stores.search_vector_store"),
    Route("POST", "/v1/vector_stores/{vector_store_id}/files", "resources.vector_store_files.create_vector_store_file"),
    Route("GET", "/v1/vector_stores/{vector_store_id}/files", "resources.vector_store_files.list_vector_store_files"),
    Route("GET", "/v1/vector_stores/{vector_store_id}/files/{file_id}",
          "resources.vector_store_files.retrieve_vector_store_file"),
    Route("POST", "/v1/vector_stores/{vector_store_id}/files/{file_id}",
          "resources.vector_store_files.update_vector_store_file_attributes"),
    Route("DELETE", "/v1/vector_stores/{vector_store_id}/files/{file_id}",
          "resources.vector_store_files.delete_vector_store_file"),
    Route("POST", "/v1/vector_stores/{vector_store_id}/file_batches",
          "resources.vector_store_files.create_vector_store_file_batch"),
    Route("GET", "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}",
          "resources.vector_store_files.retrieve_vector_store_file_batch"),
    Route("POST", "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel",
          "resources.vector_store_files.cancel_vector_store_file_batch"),
    Route("GET", "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files",
          "resources.vector_store_files.list_vector_store_file_batch_files"),
    Route("POST", "/v1/responses", "resources.responses.create_response"),
    Route("POST", "/v1/responses/input_tokens", "resources.responses.count_input_tokens"),
    Route("GET", "/v1/responses/{response_id}", "resources.responses.retrieve_response"),
    Route("DELETE", "/v1/responses/{response_id}", "resources.responses.delete_response"),
    Route("POST", "/v1/responses/{response_id}/cancel", "resources.responses.cancel_response"),
    Route("GET", "/v1/responses/{response_id}/input_items", "resources.responses.list_input_items"),
    Route("POST", "/v1/conversations", "resources.conversations.create_conversation"),
    Route("GET", "/v1/conversations/{conversation_id}", "resources.conversations.retrieve_conversation"),
    Route("POST", "/v1/conversations/{conversation_id}", "resources.conversations.update_conversation"),
    Route("DELETE", "/v1/conversations/{conversation_id}", "resources.conversations.delete_conversation"),
    Route("GET", "/v1/conversations/{conversation_id}/items", "resources.conversations.list_conversation_items"),
    Route("POST", "/v1/conversations/{conversation_id}/items", "resources.conversations.create_conversation_items"),
    Route("GET", "/v1/conversations/{conversation_id}/items/{item_id}",
          "resources.conversations.retrieve_conversation_item"),
    Route("DELETE", "/v1/conversations/{conversation_id}/items/{item_id}",
          "resources.conversations.delete_conversation_item"),
    Route("GET", "/v1/console/me", "console.account.retrieve_console_session"),
    Route("GET", "/v1/console/usage", "console.account.retrieve_console_usage"),
    Route("GET", "/v1/console/responses", "console.stored.list_stored_responses"),
    Route("GET", "/v1/console/conversations", "console.stored.list_stored_conversations"),
    Route("GET", "/v1/console/keys", "console.admin_keys.list_api_keys"),
    Route("POST", "/v1/console/keys", "console.admin_keys.create_api_key"),
    Route("DELETE", "/v1/console/keys/{key_id}", "console.admin_keys.delete_api_key"),
    Route("POST", "/v1/console/keys/{key_id}/limits", "console.admin_keys.update_api_key_limits"),
    Route("POST", "/v1/assistants", "resources.assistants.create_assistant"),
    Route("GET", "/v1/assistants", "resources.assistants.list_assistants"),
    Route("GET", "/v1/assistants/{assistant_id}", "resources.assistants.retrieve_assistant"),
    Route("POST", "/v1/assistants/{assistant_id}", "resources.assistants.modify_assistant"),
    Route("DELETE", "/v1/assistants/{assistant_id}", "resources.assistants.delete_assistant"),
    Route("POST", "/v1/threads", "resources.threads.create_thread"),
    Route("POST", "/v1/threads/runs", "resources.threads.create_thread_and_run"),  # before /v1/threads/{thread_id}
    Route("GET", "/v1/threads/{thread_id}", "resources.threads.retrieve_thread"),
    Route("POST", "/v1/threads/{thread_id}", "resources.threads.modify_thread"),
    Route("DELETE", "/v1/threads/{thread_id}", "resources.threads.delete_thread"),
    Route("POST", "/v1/threads/{thread_id}/messages", "resources.thread_messages.create_message"),
    Route("GET", "/v1/threads/{thread_id}/messages", "resources.thread_messages.list_messages"),
    Route("GET", "/v1/threads/{thread_id}/messages/{message_id}", "resources.thread_messages.retrieve_message"),
    Route("POST", "/v1/threads/{thread_id}/messages/{message_id}", "resources.thread_messages.modify_message"),
    Route("DELETE", "/v1/threads/{thread_id}/messages/{message_id}", "resources.thread_messages.delete_message"),
    Route("POST", "/v1/threads/{thread_id}/runs", "resources.thread_runs.create_run"),
    Route("GET", "/v1/threads/{thread_id}/runs", "resources.thread_runs.list_runs"),
    Route("GET", "/v1/threads/{thread_id}/runs/{run_id}", "resources.thread_runs.retrieve_run"),
    Route("POST", "/v1/threads/{thread_id}/runs/{run_id}", "resources.thread_runs.modify_run"),
    Route("POST", "/v1/threads/{thread_id}/runs/{run_id}/cancel", "resources.thread_runs.cancel_run"),
    Route("POST", "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
          "resources.thread_runs.submit_tool_outputs"),
    Route("GET", "/v1/threads/{thread_id}/runs/{run_id}/steps", "resources.thread_runs.list_run_steps"),
    Route("GET", "/v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}", "resources.thread_runs.retrieve_run_step"),
    Route("POST", "/v1/batches", "resources.batches.create_batch"),
    Route("GET", "/v1/batches", "resources.batches.list_batches"),
    Route("GET", "/v1/batches/{batch_id}", "resources.batches.retrieve_batch"),
    Route("POST", "/v1/batches/{batch_id}/cancel", "resources.batches.cancel_batch"),
]
_COMPILED = [(route, route.pattern) for route in ROUTES]


def match(method: str, path: str) -> Tuple[Route, Dict[str, str]]:
    """Find the route for a request. Paths without the /v1 prefix are accepted too, like the seed."""
    wanted = path.rstrip("/") or "/"
    if not wanted.startswith("/v1/"):
        wanted = "/v1" + wanted
    allowed = []
    for route, pattern in _COMPILED:
        found = pattern.match(wanted)
        if found:
            if route.method == method:
                # The SDKs percent-encode path parameters, slashes of model ids included.
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
            allowed.append(route.method)
    if allowed:
        raise MethodNotAllowed(f"Method {method} is not allowed for {path}.",
                               headers={"allow": ", ".join(sorted(set(allowed)))})
    raise NotFound(f"Unknown request URL: {method} {path}.", code="unknown_url")
