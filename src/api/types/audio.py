"""TranscriptionCreateParams, TranslationCreateParams (multipart fields; `file` is taken apart)
and SpeechCreateParams (JSON), with OpenAI's ranges."""
from typing import List, Literal, Optional

from pydantic.v1 import StrictBool, StrictStr, constr

from api.types.common import Params, number

MAX_FILE_BYTES = 25 * 1024 * 1024  # OpenAI's limit on audio files
MAX_SPEECH_CHARS = 4096  # OpenAI's limit on `input` of a speech request

AudioResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]


class TranslationCreateParams(Params):
    model: StrictStr
    prompt: Optional[StrictStr] = None
    response_format: AudioResponseFormat = "json"
    temperature: Optional[number(ge=0, le=1)] = None


class TranscriptionCreateParams(TranslationCreateParams):
    language: Optional[StrictStr] = None
    timestamp_granularities: Optional[List[Literal["word", "segment"]]] = None
    stream: Optional[StrictBool] = None
    include: Optional[List[StrictStr]] = None


class SpeechCreateParams(Params):
    model: StrictStr
    input: constr(strict=True, min_length=1, max_length=MAX_SPEECH_CHARS)
    voice: StrictStr
    instructions: Optional[StrictStr] = None
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: Optional[number(ge=0.25, le=4.0)] = None
    stream_format: Optional[Literal["audio", "sse"]] = None
