"""The Response object as OpenAI's spec has it: every request parameter echoed back with its
default, the status with its details, the usage in the Responses API's names."""
from typing import List, Optional

from api.errors import ApiError
from api.types.responses import ResponseCreateParams
from api.usage import Usage

# ResponseError.code takes these values only; other failures are server_error (message says what).
ERROR_CODES = {"rate_limit_exceeded", "invalid_prompt", "vector_store_timeout", "invalid_image",
               "invalid_image_format", "invalid_base64_image", "invalid_image_url", "image_too_large",
               "image_too_small", "image_parse_error", "unsupported_image_media_type", "empty_image_file",
               "failed_to_download_image", "image_file_not_found"}


def usage_wire(used: Usage) -> dict:
    return {"input_tokens": used.prompt_tokens, "input_tokens_details": {"cached_tokens": used.cached_tokens or 0},
            "output_tokens": used.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": used.reasoning_tokens or 0},
            "total_tokens": used.prompt_tokens + used.completion_tokens}


def error_wire(exc: ApiError) -> dict:
    code = exc.code if exc.code in ERROR_CODES else "server_error"
    return {"code": code, "message": exc.message}


def _tools(params: ResponseCreateParams) -> list:
    tools = []
    for tool in params.tools or []:
        if tool.get("type") == "function":
            tool = {"type": "function", "description": None, "parameters": None, "strict": True, **tool}
        elif tool.get("type") == "file_search":
            tool = {"filters": None, "max_num_results": 10,
                    "ranking_options": {"ranker": "auto", "score_threshold": 0.0}, **tool}
        tools.append(tool)
    return tools


def create(response_id: str, created_at: int, params: ResponseCreateParams, model: str,
           conversation_id: Optional[str]) -> dict:
    """A new response, queued or in progress, with nothing generated yet."""
    reasoning = params.reasoning
    text = params.text.dict(exclude_none=True, by_alias=True) if params.text else {}
    return {
        "id": response_id, "object": "response", "created_at": created_at, "status": "in_progress",
        "background": bool(params.background), "completed_at": None, "conversation":
            {"id": conversation_id} if conversation_id else None,
        "error": None, "incomplete_details": None, "instructions": params.instructions,
        "max_output_tokens": params.max_output_tokens, "max_tool_calls": params.max_tool_calls, "model": model,
        "output": [], "parallel_tool_calls": params.parallel_tool_calls is not False,
        "previous_response_id": params.previous_response_id, "prompt": None,
        "prompt_cache_retention": params.prompt_cache_retention,
        "reasoning": {"effort": reasoning.effort if reasoning else None,
                      "summary": (reasoning.summary or reasoning.generate_summary) if reasoning else None},
        "service_tier": "default", "store": params.store is not False,
        "temperature": 1.0 if params.temperature is None else params.temperature,
        "text": {"format": {"type": "text"}, "verbosity": "medium", **text},
        "tool_choice": "auto" if params.tool_choice is None else params.tool_choice, "tools": _tools(params),
        "top_logprobs": params.top_logprobs or 0, "top_p": 1.0 if params.top_p is None else params.top_p,
        "truncation": params.truncation or "disabled", "metadata": params.metadata or {},
        # Strings in the spec (never null): present when given.
        **{name: getattr(params, name) for name in ("user", "safety_identifier", "prompt_cache_key")
           if getattr(params, name) is not None},
    }


def finished(body: dict, status: str, output: List[dict], used: Usage, now: int,
             incomplete_details: Optional[dict] = None, error: Optional[dict] = None) -> dict:
    return {**body, "status": status, "output": output, "usage": usage_wire(used),
            "completed_at": now if status == "completed" else None,
            "incomplete_details": incomplete_details, "error": error}
