"""Request bodies and query strings of the Assistants API (/v1/assistants, /v1/threads and their
messages, runs and steps), named as in openai-python, strict as JSON has them, with OpenAI's
ranges. Tools and content parts are checked one by one by `type` (api.assistants.request)."""
from typing import List, Literal, Optional, Union

from pydantic.v1 import Field, StrictBool, StrictStr, conint, constr, root_validator, validator

from api.types.chat import NamedFunction, ResponseFormat
from api.types.common import Metadata, Object, Params, at_most_16, number
from api.types.vector_stores import MAX_FILE_IDS, ChunkingStrategy

MAX_ASSISTANT_TOOLS, MAX_RUN_TOOLS = 128, 20  # OpenAI's limits
MAX_NAME, MAX_DESCRIPTION, MAX_INSTRUCTIONS = 256, 512, 256_000
MAX_MESSAGES = 100  # initial messages of a thread, additional messages of a run
MAX_PARTS = 100  # content parts of one message
MAX_ATTACHMENTS = 20  # files attached to one message
MAX_TOOL_OUTPUTS = 128
MAX_OUTPUT_CHARS = 512 * 1024  # one tool output
MIN_RUN_TOKENS = 256  # max_prompt_tokens and max_completion_tokens, as OpenAI's minimum
Effort = Literal["none", "minimal", "low", "medium", "high"]


Temperature = number(ge=0, le=2)
TopP = number(ge=0, le=1)


class RankingOptions(Params):
    ranker: Optional[Literal["auto", "default_2024_08_21"]] = None
    score_threshold: Optional[TopP] = None  # a cosine similarity, 0..1


class FileSearchOptions(Params):
    max_num_results: Optional[conint(strict=True, ge=1, le=50)] = None
    ranking_options: Optional[RankingOptions] = None


class FileSearchToolParam(Params):
    type: Literal["file_search"]
    file_search: Optional[FileSearchOptions] = None


class NewVectorStore(Params):
    """tool_resources.file_search.vector_stores[0]: a store made from files for the object."""
    file_ids: List[StrictStr] = Field([], max_items=MAX_FILE_IDS)
    chunking_strategy: Optional[ChunkingStrategy] = None
    metadata: Optional[Metadata] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class FileSearchResources(Params):
    vector_store_ids: Optional[List[StrictStr]] = Field(None, max_items=1)  # OpenAI: one store per object
    vector_stores: Optional[List[NewVectorStore]] = Field(None, max_items=1)

    @root_validator(skip_on_failure=True)
    def _one_way(cls, values):
        if values.get("vector_store_ids") and values.get("vector_stores"):
            raise ValueError("give 'vector_store_ids' or 'vector_stores', not both")
        return values


class CodeInterpreterResources(Params):
    file_ids: List[StrictStr] = []


class ToolResources(Params):
    code_interpreter: Optional[CodeInterpreterResources] = None
    file_search: Optional[FileSearchResources] = None


class AssistantCreateParams(Params):
    model: StrictStr
    name: Optional[constr(strict=True, max_length=MAX_NAME)] = None
    description: Optional[constr(strict=True, max_length=MAX_DESCRIPTION)] = None
    instructions: Optional[constr(strict=True, max_length=MAX_INSTRUCTIONS)] = None
    tools: List[Object] = Field([], max_items=MAX_ASSISTANT_TOOLS)
    tool_resources: Optional[ToolResources] = None
    metadata: Optional[Metadata] = None
    temperature: Optional[Temperature] = None
    top_p: Optional[TopP] = None
    response_format: Optional[Union[ResponseFormat, Literal["auto"]]] = None
    reasoning_effort: Optional[Effort] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class AssistantUpdateParams(AssistantCreateParams):
    model: Optional[StrictStr] = None
    tools: Optional[List[Object]] = Field(None, max_items=MAX_ASSISTANT_TOOLS)


class TextPart(Params):
    type: Literal["text"]
    text: StrictStr


class ImageFile(Params):
    file_id: StrictStr
    detail: Optional[Literal["auto", "low", "high"]] = None


class ImageFilePart(Params):
    type: Literal["image_file"]
    image_file: ImageFile


class ImageURL(Params):
    url: StrictStr
    detail: Optional[Literal["auto", "low", "high"]] = None


class ImageURLPart(Params):
    type: Literal["image_url"]
    image_url: ImageURL


class Attachment(Params):
    file_id: StrictStr
    tools: List[Object] = Field(..., min_items=1)


class MessageCreateParams(Params):
    role: Literal["user", "assistant"]
    content: Union[StrictStr, List[Object]]
    attachments: Optional[List[Attachment]] = Field(None, max_items=MAX_ATTACHMENTS)
    metadata: Optional[Metadata] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)

    @validator("content")
    def _parts(cls, value):
        if isinstance(value, list) and not 1 <= len(value) <= MAX_PARTS:
            raise ValueError(f"a message has 1 to {MAX_PARTS} content parts")
        return value


class MetadataParams(Params):
    """The body of the updates that change metadata only (messages, runs)."""
    metadata: Optional[Metadata] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class ThreadCreateParams(Params):
    messages: List[Object] = Field([], max_items=MAX_MESSAGES)  # each a MessageCreateParams
    tool_resources: Optional[ToolResources] = None
    metadata: Optional[Metadata] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class ThreadUpdateParams(Params):
    tool_resources: Optional[ToolResources] = None
    metadata: Optional[Metadata] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class TruncationStrategy(Params):
    type: Literal["auto", "last_messages"]
    last_messages: Optional[conint(strict=True, ge=1)] = None

    @root_validator(skip_on_failure=True)
    def _count_for_last_messages(cls, values):
        if values["type"] == "last_messages" and values.get("last_messages") is None:
            raise ValueError("a last_messages truncation_strategy needs 'last_messages'")
        return values


class NamedToolChoice(Params):
    type: Literal["function", "file_search", "code_interpreter"]
    function: Optional[NamedFunction] = None

    @root_validator(skip_on_failure=True)
    def _function_is_named(cls, values):
        if values["type"] == "function" and values.get("function") is None:
            raise ValueError("a function tool_choice needs 'function.name'")
        return values


class RunSettings(Params):
    """What a run may set over its assistant (runs create, and create-and-run)."""
    assistant_id: StrictStr
    model: Optional[StrictStr] = None
    instructions: Optional[constr(strict=True, max_length=MAX_INSTRUCTIONS)] = None
    tools: Optional[List[Object]] = Field(None, max_items=MAX_RUN_TOOLS)
    metadata: Optional[Metadata] = None
    temperature: Optional[Temperature] = None
    top_p: Optional[TopP] = None
    stream: Optional[StrictBool] = None
    max_prompt_tokens: Optional[conint(strict=True, ge=MIN_RUN_TOKENS)] = None
    max_completion_tokens: Optional[conint(strict=True, ge=MIN_RUN_TOKENS)] = None
    truncation_strategy: Optional[TruncationStrategy] = None
    tool_choice: Optional[Union[NamedToolChoice, Literal["none", "auto", "required"]]] = None
    parallel_tool_calls: Optional[StrictBool] = None
    response_format: Optional[Union[ResponseFormat, Literal["auto"]]] = None
    reasoning_effort: Optional[Effort] = None
    _metadata = validator("metadata", allow_reuse=True)(at_most_16)


class RunCreateParams(RunSettings):
    additional_instructions: Optional[constr(strict=True, max_length=MAX_INSTRUCTIONS)] = None
    additional_messages: Optional[List[Object]] = Field(None, max_items=MAX_MESSAGES)


class ThreadCreateAndRunParams(RunSettings):
    thread: Optional[Object] = None  # a ThreadCreateParams
    tool_resources: Optional[ToolResources] = None  # the assistant's, replaced for this run


class ToolOutput(Params):
    tool_call_id: StrictStr
    output: constr(strict=True, max_length=MAX_OUTPUT_CHARS)


class SubmitToolOutputsParams(Params):
    tool_outputs: List[ToolOutput] = Field(..., min_items=1, max_items=MAX_TOOL_OUTPUTS)
    stream: Optional[StrictBool] = None


class ListParams(Params):
    """Query of the lists (text from the query string, read by api.validate.parse_text)."""
    limit: conint(strict=True, ge=1, le=100) = 20
    order: Literal["asc", "desc"] = "desc"
    after: Optional[StrictStr] = None
    before: Optional[StrictStr] = None


class MessageListParams(ListParams):
    run_id: Optional[StrictStr] = None
