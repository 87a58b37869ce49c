"""POST /v1/audio/transcriptions, /v1/audio/translations and /v1/audio/speech over Workers AI's
whisper and text-to-speech models.

Uploads are never copied into Python for whisper-large-v3-turbo: the Upload goes as the stream
input {body, contentType} and the edge hands the runtime's stream to the binding. Classic whisper
(and whisper-tiny-en) only takes a byte array, so for them the file is read into memory once.
aura's binary answer is passed through as the response body; melotts' base64 MP3 is decoded.
"""
import base64
import binascii
from typing import Optional, Tuple

from api import catalog, limits, tokens, usage
from api.media import transcripts
from api.catalog import ModelSpec
from api.errors import InvalidRequest, PayloadTooLarge, UnsupportedParameter, UpstreamError
from api.ports import Deps
from api.types.audio import (MAX_FILE_BYTES, SpeechCreateParams, TranscriptionCreateParams,
                             TranslationCreateParams)
from api.validate import form_fields, parse_request, parse_text, refuse_unsupported
from api.web import ApiRequest, ApiResponse, ByteList, Upload

# OpenAI's accepted file types (by extension) and the content type each is sent to Workers AI as.
AUDIO_TYPES = {"flac": "audio/flac", "m4a": "audio/mp4", "mp3": "audio/mpeg", "mp4": "audio/mp4",
               "mpeg": "audio/mpeg", "mpga": "audio/mpeg", "oga": "audio/ogg", "ogg": "audio/ogg",
               "wav": "audio/wav", "webm": "audio/webm"}
# Content types that identify one of those when the filename does not.
CONTENT_TYPES = {"audio/flac": "flac", "audio/x-flac": "flac", "audio/mp4": "m4a", "audio/x-m4a": "m4a",
                 "audio/m4a": "m4a", "video/mp4": "mp4", "audio/mpeg": "mp3", "audio/mp3": "mp3",
                 "video/mpeg": "mpeg", "audio/ogg": "ogg", "application/ogg": "ogg", "audio/wav": "wav",
                 "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
                 "audio/webm": "webm", "video/webm": "webm"}
TEXT_FORMATS = {"text": transcripts.text, "srt": transcripts.srt, "vtt": transcripts.vtt}
TEXT_PLAIN = "text/plain; charset=utf-8"

# OpenAI voices → aura-1 speakers, by character: female voices to female speakers, male to male;
# fable, OpenAI's British voice, to helios (British). aura-1's own speaker names work too.
VOICES = {"alloy": "asteria", "ash": "arcas", "ballad": "orpheus", "coral": "athena", "echo": "orion",
          "fable": "helios", "onyx": "zeus", "nova": "luna", "sage": "hera", "shimmer": "stella",
          "verse": "perseus", "cedar": "angus", "marin": "asteria"}
AURA_SPEAKERS = ("angus", "asteria", "arcas", "orion", "orpheus", "athena", "luna", "zeus", "perseus",
                 "helios", "hera", "stella")
# melotts has one voice per language: `voice` may name its language; OpenAI voices mean English.
MELOTTS_LANGUAGES = ("en", "es", "fr", "zh", "jp", "kr")
# OpenAI response_format → aura (encoding, container, extra inputs) and the content type OpenAI sends.
# pcm is OpenAI's raw 24 kHz 16-bit little-endian mono.
AURA_FORMATS = {"mp3": ("mp3", "none", {}), "opus": ("opus", "ogg", {}), "aac": ("aac", "none", {}),
                "flac": ("flac", "none", {}), "wav": ("linear16", "wav", {}),
                "pcm": ("linear16", "none", {"sample_rate": 24000})}
AUDIO_CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                       "wav": "audio/wav", "pcm": "audio/pcm"}


# --- speech to text -------------------------------------------------------------------------------

def _upload(fields: dict) -> Tuple[Upload, str]:
    """The `file` part, checked: present, a file, at most 25 MB, an audio type. Also the content
    type to send it as."""
    upload = fields.get("file")
    if upload is None:
        raise InvalidRequest("Missing required parameter: 'file'.", param="file",
                             code="missing_required_parameter")
    if isinstance(upload, str):
        raise InvalidRequest("'file' must be a file upload, not a text field.", param="file",
                             code="invalid_value")
    if upload.size > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"Maximum content size limit ({MAX_FILE_BYTES}) exceeded "
                              f"({upload.size} bytes read).", param="file")
    if upload.size == 0:
        raise InvalidRequest("The audio file is empty.", param="file", code="invalid_value")
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    declared = upload.content_type.split(";")[0].strip().lower()
    kind = extension if extension in AUDIO_TYPES else CONTENT_TYPES.get(declared)
    if kind is None:
        raise InvalidRequest(f"Invalid file format. Supported formats: {sorted(AUDIO_TYPES)}",
                             param="file", code="invalid_file_format")
    return upload, declared if declared in CONTENT_TYPES else AUDIO_TYPES[kind]


def _refuse_temperature(temperature: Optional[float]) -> None:
    if temperature:  # 0 is OpenAI's default and whisper's first decoding pass
        raise UnsupportedParameter("temperature", "is not supported by Workers AI's whisper models, "
                                                  "which pick their own temperature fallback; send 0 or omit it")


async def _inputs(spec: ModelSpec, upload: Upload, content_type: str, task: str,
                  language: Optional[str], prompt: Optional[str]) -> dict:
    if spec.has(catalog.STREAM_INPUT):
        inputs = {"audio": {"body": upload, "contentType": content_type}, "task": task}
        if language:
            inputs["language"] = language
        if prompt:
            inputs["initial_prompt"] = prompt
        return inputs
    for name, value in (("language", language), ("prompt", prompt)):
        if value:
            raise UnsupportedParameter(name, f"is not supported by {spec.id}; "
                                             "use whisper-1 (whisper-large-v3-turbo)")
    # Classic whisper's only input: the file as an array of byte values.
    return {"audio": ByteList(await upload.read())}


async def _transcribe(req: ApiRequest, deps: Deps, spec: ModelSpec, inputs: dict) -> transcripts.Transcript:
    result = await deps.ai.run(spec.id, inputs)
    if not isinstance(result, dict) or not isinstance(result.get("text"), str):
        raise UpstreamError(f"Workers AI returned no transcript from {spec.id}.")
    transcript = transcripts.from_whisper(result)
    used = usage.Usage(completion_tokens=tokens.estimate(transcript.text))
    usage.record(usage.Meter.of(req), deps, spec.id, used)
    return transcript


def _formatted(transcript: transcripts.Transcript, response_format: str, task: str,
               granularities) -> ApiResponse:
    if response_format in TEXT_FORMATS:
        return ApiResponse(TEXT_FORMATS[response_format](transcript), headers={"content-type": TEXT_PLAIN})
    if response_format == "verbose_json":
        wanted = set(granularities or ["segment"])
        return ApiResponse(transcripts.verbose(transcript, task, "segment" in wanted, "word" in wanted))
    return ApiResponse(transcripts.json_object(transcript))


async def create_transcription(req: ApiRequest, deps: Deps) -> ApiResponse:
    fields = form_fields(req)
    upload, content_type = _upload(fields)
    params = parse_text(TranscriptionCreateParams, fields)
    refuse_unsupported(params, {"stream": bool, "include": bool})
    _refuse_temperature(params.temperature)
    spec = limits.resolve_model(req, deps, params.model, catalog.SPEECH_TO_TEXT)
    inputs = await _inputs(spec, upload, content_type, "transcribe", params.language, params.prompt)
    transcript = await _transcribe(req, deps, spec, inputs)
    if not transcript.language and params.language:
        transcript.language = params.language
    return _formatted(transcript, params.response_format, "transcribe", params.timestamp_granularities)


async def create_translation(req: ApiRequest, deps: Deps) -> ApiResponse:
    fields = form_fields(req)
    upload, content_type = _upload(fields)
    params = parse_text(TranslationCreateParams, fields)
    _refuse_temperature(params.temperature)
    spec = limits.resolve_model(req, deps, params.model, catalog.SPEECH_TO_TEXT)
    if not spec.has(catalog.TRANSLATE):
        raise InvalidRequest(f"The model `{params.model}` cannot translate; use whisper-1 "
                             "(whisper-large-v3-turbo).", param="model", code="model_not_supported")
    inputs = await _inputs(spec, upload, content_type, "translate", None, params.prompt)
    transcript = await _transcribe(req, deps, spec, inputs)
    return _formatted(transcript, params.response_format, "translate", None)


# --- text to speech -------------------------------------------------------------------------------

def _aura_inputs(params: SpeechCreateParams) -> dict:
    speaker = VOICES.get(params.voice, params.voice)
    if speaker not in AURA_SPEAKERS:
        raise InvalidRequest(f"Invalid value for 'voice': '{params.voice}' is not a supported voice. "
                             f"Supported voices: {sorted(VOICES)} and aura-1's speakers {list(AURA_SPEAKERS)}.",
                             param="voice", code="invalid_value")
    encoding, container, extra = AURA_FORMATS[params.response_format]
    return {"text": params.input, "speaker": speaker, "encoding": encoding, "container": container, **extra}


def _melotts_inputs(spec: ModelSpec, params: SpeechCreateParams) -> dict:
    if params.response_format != "mp3":
        raise UnsupportedParameter("response_format", f"'{params.response_format}' is not supported by "
                                                      f"{spec.id}, which only produces mp3")
    lang = "en" if params.voice in VOICES else params.voice
    if lang not in MELOTTS_LANGUAGES:
        raise InvalidRequest(f"Invalid value for 'voice': '{params.voice}'. {spec.id} takes an OpenAI "
                             f"voice (English) or one of its languages {list(MELOTTS_LANGUAGES)}.",
                             param="voice", code="invalid_value")
    return {"prompt": params.input, "lang": lang}


def _audio_body(result, spec: ModelSpec):
    """aura answers with a binary stream (kept as it is); melotts with {audio: base64 MP3}."""
    if isinstance(result, dict):
        try:
            return base64.b64decode(result.get("audio") or "", validate=True) or None
        except (binascii.Error, TypeError, ValueError):
            return None
    return result


async def create_speech(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(SpeechCreateParams, req)
    if params.speed is not None and params.speed != 1.0:
        raise UnsupportedParameter("speed", "is not supported by Workers AI's text-to-speech models, "
                                            "which speak at one speed; send 1.0 or omit it")
    if params.instructions:
        raise UnsupportedParameter("instructions", "is not supported by Workers AI's text-to-speech models")
    if params.stream_format == "sse":
        raise UnsupportedParameter("stream_format", "value 'sse' is not supported: the audio is "
                                                    "streamed as raw bytes (stream_format 'audio')")
    spec = limits.resolve_model(req, deps, params.model, catalog.TEXT_TO_SPEECH)
    inputs = _aura_inputs(params) if spec.has(catalog.SPEAKERS) else _melotts_inputs(spec, params)
    body = _audio_body(await deps.ai.run(spec.id, inputs), spec)
    if body is None:
        raise UpstreamError(f"Workers AI returned no audio from {spec.id}.")
    usage.record(usage.Meter.of(req), deps, spec.id, usage.Usage(prompt_tokens=tokens.estimate(params.input)))
    return ApiResponse(body, headers={"content-type": AUDIO_CONTENT_TYPES[params.response_format]})
