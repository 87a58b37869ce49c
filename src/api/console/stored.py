"""GET /v1/console/responses and /v1/console/conversations: the caller's stored responses and
conversations, newest first. OpenAI's API has no list of either; the console needs one to link to
each object's JSON (GET /v1/responses/{id}, /v1/conversations/{id})."""
from api import pages
from api.ports import Deps, Row
from api.types.console import ConsoleListParams
from api.validate import parse_text
from api.web import ApiRequest, ApiResponse


def _response(row: Row) -> dict:
    return {"object": "response", "id": row["id"], "created_at": row["created_at"], "status": row["status"],
            "previous_response_id": row["previous_response_id"], "conversation_id": row["conversation_id"]}


def _conversation(row: Row) -> dict:
    return {"object": "conversation", "id": row["id"], "created_at": row["created_at"]}


async def list_stored_responses(req: ApiRequest, deps: Deps) -> ApiResponse:
    listing = pages.Listing("responses", "id, created_at, status, previous_response_id, conversation_id",
                            [("owner = ?", req.key.owner)], "response")
    return ApiResponse(await pages.page(deps, listing, parse_text(ConsoleListParams, req.query), _response))


async def list_stored_conversations(req: ApiRequest, deps: Deps) -> ApiResponse:
    listing = pages.Listing("conversations", "id, created_at", [("owner = ?", req.key.owner)], "conversation")
    return ApiResponse(await pages.page(deps, listing, parse_text(ConsoleListParams, req.query), _conversation))
