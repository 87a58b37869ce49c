"""api.routes: the route table, the optional /v1 prefix, path parameters, 404 vs 405 + Allow."""
import pytest

from api import routes
from api.errors import MethodNotAllowed, NotFound
from api.resources import chat, completions, embeddings, models
from api.resources import moderations
from api.resources import audio
from api.resources import images
from api.resources import files
from api.resources import vector_stores, vector_store_files
from api.resources import conversations, responses
from api.console import account, admin_keys, stored
from api.resources import assistants, threads, thread_messages, thread_runs
from api.resources import batches
from unit.support import call, error

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"

VS, STORE = "/v1/vector_stores/{vector_store_id}", {"vector_store_id": "vs_1"}
RESP, RID = "/v1/responses/{response_id}", {"response_id": "resp_1"}
CONV, CID = "/v1/conversations/{conversation_id}", {"conversation_id": "conv_1"}
ASST, AID = "/v1/assistants/{assistant_id}", {"assistant_id": "asst_1"}
THR, TID = "/v1/threads/{thread_id}", {"thread_id": "thread_1"}
MSG, MID = THR + "/messages/{message_id}", {**TID, "message_id": "msg_1"}
RUN, RID2 = THR + "/runs/{run_id}", {**TID, "run_id": "run_1"}
CC, CCID = "/v1/chat/completions/{completion_id}", {"completion_id": "chatcmpl-1"}
BATCH, BID = "/v1/batches/{batch_id}", {"batch_id": "batch_1"}
# (method, template, a concrete path, handler, expected path params)
CASES = [
    ("GET", "/v1/models", "/v1/models", models.list_models, {}),
    ("GET", "/v1/models/{model:path}", "/v1/models/gpt-4o", models.retrieve_model, {"model": "gpt-4o"}),
    ("POST", "/v1/chat/completions", "/v1/chat/completions", chat.create_chat_completion, {}),
    ("GET", "/v1/chat/completions", "/v1/chat/completions", chat.list_chat_completions, {}),
    ("GET", CC, "/v1/chat/completions/chatcmpl-1", chat.retrieve_chat_completion, CCID),
    ("POST", CC, "/v1/chat/completions/chatcmpl-1", chat.update_chat_completion, CCID),
    ("DELETE", CC, "/v1/chat/completions/chatcmpl-1", chat.delete_chat_completion, CCID),
    ("GET", CC + "/messages", "/v1/chat/completions/chatcmpl-1/messages", chat.list_chat_completion_messages, CCID),
    ("POST", "/v1/completions", "/v1/completions", completions.create_completion, {}),
    ("POST", "/v1/embeddings", "/v1/embeddings", embeddings.create_embedding, {}),
    ("POST", "/v1/moderations", "/v1/moderations", moderations.create_moderation, {}),
    ("POST", "/v1/audio/transcriptions", "/v1/audio/transcriptions", audio.create_transcription, {}),
    ("POST", "/v1/audio/translations", "/v1/audio/translations", audio.create_translation, {}),
    ("POST", "/v1/audio/speech", "/v1/audio/speech", audio.create_speech, {}),
    ("POST", "/v1/images/generations", "/v1/images/generations", images.create_image, {}),
    ("POST", "/v1/images/edits", "/v1/images/edits", images.create_image_edit, {}),
    ("POST", "/v1/images/variations", "/v1/images/variations", images.create_image_variation, {}),
    ("GET", "/v1/images/content/{key:path}", "/v1/images/content/images/img_1.png",
     images.retrieve_image_content, {"key": "images/img_1.png"}),
    ("POST", "/v1/files", "/v1/files", files.create_file, {}),
    ("GET", "/v1/files", "/v1/files", files.list_files, {}),
    ("GET", "/v1/files/{file_id}", "/v1/files/file-abc", files.retrieve_file, {"file_id": "file-abc"}),
    ("DELETE", "/v1/files/{file_id}", "/v1/files/file-abc", files.delete_file, {"file_id": "file-abc"}),
    ("GET", "/v1/files/{file_id}/content", "/v1/files/file-abc/content", files.retrieve_file_content,
     {"file_id": "file-abc"}),
    ("POST", "/v1/vector_stores", "/v1/vector_stores", vector_stores.create_vector_store, {}),
    ("GET", "/v1/vector_stores", "/v1/vector_stores", vector_stores.list_vector_stores, {}),
    ("GET", VS, "/v1/vector_stores/vs_1", vector_stores.retrieve_vector_store, STORE),
    ("POST", VS, "/v1/vector_stores/vs_1", vector_stores.modify_vector_store, STORE),
    ("DELETE", VS, "/v1/vector_stores/vs_1", vector_stores.delete_vector_store, STORE),
    ("POST", VS + "/search", "/v1/vector_stores/vs_1/search", vector_stores.search_vector_store, STORE),
    ("POST", VS + "/files", "/v1/vector_stores/vs_1/files", vector_store_files.create_vector_store_file, STORE),
    ("GET", VS + "/files", "/v1/vector_stores/vs_1/files", vector_store_files.list_vector_store_files, STORE),
    ("GET", VS + "/files/{file_id}", "/v1/vector_stores/vs_1/files/file-abc",
     vector_store_files.retrieve_vector_store_file, {**STORE, "file_id": "file-abc"}),
    ("POST", VS + "/files/{file_id}", "/v1/vector_stores/vs_1/files/file-abc",
     vector_store_files.update_vector_store_file_attributes, {**STORE, "file_id": "file-abc"}),
    ("DELETE", VS + "/files/{file_id}", "/v1/vector_stores/vs_1/files/file-abc",
     vector_store_files.delete_vector_store_file, {**STORE, "file_id": "file-abc"}),
    ("POST", VS + "/file_batches", "/v1/vector_stores/vs_1/file_batches",
     vector_store_files.create_vector_store_file_batch, STORE),
    ("GET", VS + "/file_batches/{batch_id}", "/v1/vector_stores/vs_1/file_batches/vsfb_1",
     vector_store_files.retrieve_vector_store_file_batch, {**STORE, "batch_id": "vsfb_1"}),
    ("POST", VS + "/file_batches/{batch_id}/cancel", "/v1/vector_stores/vs_1/file_batches/vsfb_1/cancel",
     vector_store_files.cancel_vector_store_file_batch, {**STORE, "batch_id": "vsfb_1"}),
    ("GET", VS + "/file_batches/{batch_id}/files", "/v1/vector_stores/vs_1/file_batches/vsfb_1/files",
     vector_store_files.list_vector_store_file_batch_files, {**STORE, "batch_id": "vsfb_1"}),
    ("POST", "/v1/responses", "/v1/responses", responses.create_response, {}),
    ("POST", "/v1/responses/input_tokens", "/v1/responses/input_tokens", responses.count_input_tokens, {}),
    ("GET", RESP, "/v1/responses/resp_1", responses.retrieve_response, RID),
    ("DELETE", RESP, "/v1/responses/resp_1", responses.delete_response, RID),
    ("POST", RESP + "/cancel", "/v1/responses/resp_1/cancel", responses.cancel_response, RID),
    ("GET", RESP + "/input_items", "/v1/responses/resp_1/input_items", responses.list_input_items, RID),
    ("POST", "/v1/conversations", "/v1/conversations", conversations.create_conversation, {}),
    ("GET", CONV, "/v1/conversations/conv_1", conversations.retrieve_conversation, CID),
    ("POST", CONV, "/v1/conversations/conv_1", conversations.update_conversation, CID),
    ("DELETE", CONV, "/v1/conversations/conv_1", conversations.delete_conversation, CID),
    ("GET", CONV + "/items", "/v1/conversations/conv_1/items", conversations.list_conversation_items, CID),
    ("POST", CONV + "/items", "/v1/conversations/conv_1/items", conversations.create_conversation_items, CID),
    ("GET", CONV + "/items/{item_id}", "/v1/conversations/conv_1/items/msg_1",
     conversations.retrieve_conversation_item, {**CID, "item_id": "msg_1"}),
    ("DELETE", CONV + "/items/{item_id}", "/v1/conversations/conv_1/items/msg_1",
     conversations.delete_conversation_item, {**CID, "item_id": "msg_1"}),
    ("GET", "/v1/console/me", "/v1/console/me", account.retrieve_console_session, {}),
    ("GET", "/v1/console/usage", "/v1/console/usage", account.retrieve_console_usage, {}),
    ("GET", "/v1/console/responses", "/v1/console/responses", stored.list_stored_responses, {}),
    ("GET", "/v1/console/conversations", "/v1/console/conversations", stored.list_stored_conversations, {}),
    ("GET", "/v1/console/keys", "/v1/console/keys", admin_keys.list_api_keys, {}),
    ("POST", "/v1/console/keys", "/v1/console/keys", admin_keys.create_api_key, {}),
    ("DELETE", "/v1/console/keys/{key_id}", "/v1/console/keys/key_1", admin_keys.delete_api_key,
     {"key_id": "key_1"}),
    ("POST", "/v1/console/keys/{key_id}/limits", "/v1/console/keys/key_1/limits",
     admin_keys.update_api_key_limits, {"key_id": "key_1"}),
    ("POST", "/v1/assistants", "/v1/assistants", assistants.create_assistant, {}),
    ("GET", "/v1/assistants", "/v1/assistants", assistants.list_assistants, {}),
    ("GET", ASST, "/v1/assistants/asst_1", assistants.retrieve_assistant, AID),
    ("POST", ASST, "/v1/assistants/asst_1", assistants.modify_assistant, AID),
    ("DELETE", ASST, "/v1/assistants/asst_1", assistants.delete_assistant, AID),
    ("POST", "/v1/threads", "/v1/threads", threads.create_thread, {}),
    ("POST", "/v1/threads/runs", "/v1/threads/runs", threads.create_thread_and_run, {}),
    ("GET", THR, "/v1/threads/thread_1", threads.retrieve_thread, TID),
    ("POST", THR, "/v1/threads/thread_1", threads.modify_thread, TID),
    ("DELETE", THR, "/v1/threads/thread_1", threads.delete_thread, TID),
    ("POST", THR + "/messages", "/v1/threads/thread_1/messages", thread_messages.create_message, TID),
    ("GET", THR + "/messages", "/v1/threads/thread_1/messages", thread_messages.list_messages, TID),
    ("GET", MSG, "/v1/threads/thread_1/messages/msg_1", thread_messages.retrieve_message, MID),
    ("POST", MSG, "/v1/threads/thread_1/messages/msg_1", thread_messages.modify_message, MID),
    ("DELETE", MSG, "/v1/threads/thread_1/messages/msg_1", thread_messages.delete_message, MID),
    ("POST", THR + "/runs", "/v1/threads/thread_1/runs", thread_runs.create_run, TID),
    ("GET", THR + "/runs", "/v1/threads/thread_1/runs", thread_runs.list_runs, TID),
    ("GET", RUN, "/v1/threads/thread_1/runs/run_1", thread_runs.retrieve_run, RID2),
    ("POST", RUN, "/v1/threads/thread_1/runs/run_1", thread_runs.modify_run, RID2),
    ("POST", RUN + "/cancel", "/v1/threads/thread_1/runs/run_1/cancel", thread_runs.cancel_run, RID2),
    ("POST", RUN + "/submit_tool_outputs", "/v1/threads/thread_1/runs/run_1/submit_tool_outputs",
     thread_runs.submit_tool_outputs, RID2),
    ("GET", RUN + "/steps", "/v1/threads/thread_1/runs/run_1/steps", thread_runs.list_run_steps, RID2),
    ("GET", RUN + "/steps/{step_id}", "/v1/threads/thread_1/runs/run_1/steps/step_1", thread_runs.retrieve_run_step,
     {**RID2, "step_id": "step_1"}),
    ("POST", "/v1/batches", "/v1/batches", batches.create_batch, {}),
    ("GET", "/v1/batches", "/v1/batches", batches.list_batches, {}),
    ("GET", BATCH, "/v1/batches/batch_1", batches.retrieve_batch, BID),
    ("POST", BATCH + "/cancel", "/v1/batches/batch_1/cancel", batches.cancel_batch, BID),
]


def test_the_cases_cover_the_whole_table():
    assert {(r.method, r.template) for r in routes.ROUTES} == {(c[0], c[1]) for c in CASES}


@pytest.mark.parametrize("prefix", ["/v1", ""], ids=["v1", "bare"])
@pytest.mark.parametrize("trailing", ["", "/"], ids=["plain", "trailing-slash"])
@pytest.mark.parametrize("method,template,path,handler,params", CASES, ids=[c[1] for c in CASES])
def test_every_route_matches(prefix, trailing, method, template, path, handler, params):
    route, found = routes.match(method, prefix + path[len("/v1"):] + trailing)
    assert (route.template, route.handler, found) == (template, handler, params)


@pytest.mark.parametrize("path", [f"/v1/models/{LLAMA}", f"/models/{LLAMA}", f"/v1/models/{LLAMA}/"])
def test_model_ids_keep_their_slashes(path):
    route, params = routes.match("GET", path)
    assert route.handler is models.retrieve_model
    assert params == {"model": LLAMA}


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/", "/v1/nothing", "/nothing", "/v1/chat",
                                  "/v1/chat/completions/one/extra", "/v2/models", "/v1/modelss"])
def test_unknown_urls_are_404(path):
    with pytest.raises(NotFound) as raised:
        routes.match("GET", path)
    assert (raised.value.status, raised.value.code) == (404, "unknown_url")


@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/v1/models", "GET"),
    ("DELETE", "/v1/models/gpt-4o", "GET"),
    ("PUT", "/v1/chat/completions", "GET, POST"),
    ("PUT", "/completions", "POST"),
    ("GET", "/v1/embeddings/", "POST"),
])
def test_wrong_method_is_405_with_allow(method, path, allow):
    with pytest.raises(MethodNotAllowed) as raised:
        routes.match(method, path)
    assert (raised.value.status, raised.value.code, raised.value.headers) == (405, "method_not_allowed",
                                                                               {"allow": allow})


def test_404_through_the_app(deps):
    response = call(deps, "GET", "/v1/nothing")
    assert (response.status, response.body) == (
        404, error("Unknown request URL: GET /v1/nothing.", code="unknown_url"))


def test_405_through_the_app(deps):
    response = call(deps, "POST", "/models", {})
    assert response.status == 405
    assert response.headers["allow"] == "GET"
    assert response.body == error("Method POST is not allowed for /models.", code="method_not_allowed")
