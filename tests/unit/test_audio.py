"""api.resources.audio: transcriptions and translations (multipart, file checks, model inputs per
whisper family, response formats) and speech (voices, formats, refusals, binary pass-through)."""
import base64

import pytest

from api import app
from api.types.audio import MAX_FILE_BYTES
from api.web import ByteList
from fakes import MemoryBinary
from unit.support import drain, error, model_inputs, post, request, run

TURBO = "@cf/openai/whisper-large-v3-turbo"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)
TEXT = "Audio of 1.50 seconds."
WORDS = [{"word": w, "start": round(i * 0.375, 3), "end": round((i + 1) * 0.375, 3)}
         for i, w in enumerate(TEXT.split())]


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def turbo(text=TEXT, language="en", words=WORDS, duration=1.5) -> dict:
    """whisper-large-v3-turbo's output shape."""
    return {"transcription_info": {"language": language, "language_probability": 0.99, "duration": duration,
                                   "duration_after_vad": duration},
            "text": text, "word_count": len(words),
            "segments": [{"start": 0.0, "end": duration, "text": text, "temperature": 0.0, "avg_logprob": -0.2,
                          "compression_ratio": 1.2, "no_speech_prob": 0.01, "words": words}],
            "vtt": "WEBVTT\n\n00:00.000 --> 00:01.500\n" + text + "\n\n"}


def classic(text=TEXT, words=WORDS) -> dict:
    """whisper / whisper-tiny-en's output shape."""
    return {"text": text, "word_count": len(words), "words": words, "vtt": "WEBVTT\n\n"}


def upload(data=WAV, content_type="audio/wav", filename="speech.wav"):
    return MemoryBinary(data, content_type, filename)


def audio_post(deps, path, *answers, file=None, **fields):
    """A multipart request: `file` (a WAV unless given) and the fields (model whisper-1 unless
    given; lists for names ending in [])."""
    for answer in answers:
        deps.ai.answer(answer)
    form = {"file": [file if file is not None else upload()]}
    form.update({name: value if isinstance(value, list) else [value]
                 for name, value in {"model": "whisper-1", **fields}.items()})
    return run(app.handle(request("POST", path, form=form), deps))


def transcribe(deps, *answers, **fields):
    return audio_post(deps, "/v1/audio/transcriptions", *answers, **fields)


def translate(deps, *answers, **fields):
    return audio_post(deps, "/v1/audio/translations", *answers, **fields)


# --- transcriptions -------------------------------------------------------------------------------

def test_turbo_gets_the_upload_itself_as_a_stream_input(deps):
    file = upload()
    response = transcribe(deps, turbo(), file=file, language="en", prompt="Cloudflare, Workers")
    assert response.status == 200
    assert response.body == {"text": TEXT, "usage": {"type": "duration", "seconds": 2}}
    [(model, inputs, options)] = deps.ai.calls
    assert model == TURBO and options is None
    assert inputs == {"audio": {"body": file, "contentType": "audio/wav"}, "task": "transcribe",
                      "language": "en", "initial_prompt": "Cloudflare, Workers"}
    assert inputs["audio"]["body"] is file  # no bytes read in Python


@pytest.mark.parametrize("alias", ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", TURBO])
def test_aliases_resolve_to_turbo(deps, alias):
    assert transcribe(deps, turbo(), model=alias).status == 200
    assert deps.ai.calls[0][0] == TURBO


@pytest.mark.parametrize("model", ["@cf/openai/whisper", "@cf/openai/whisper-tiny-en"])
def test_classic_whisper_gets_a_byte_array(deps, model):
    response = transcribe(deps, classic(), model=model, response_format="verbose_json")
    assert model_inputs(deps) == {"audio": ByteList(WAV)}  # listed by the edge, in the runtime
    assert response.body["segments"][0]["text"] == TEXT and response.body["language"] == "unknown"
    assert response.body["duration"] == 1.5


@pytest.mark.parametrize("field", ["language", "prompt"])
def test_classic_whisper_refuses_what_it_cannot_take(deps, field):
    response = transcribe(deps, model="@cf/openai/whisper", **{field: "en"})
    assert response.status == 400 and deps.ai.calls == []
    assert response.body == error(f"Unsupported parameter: '{field}' is not supported by @cf/openai/whisper; "
                                  "use whisper-1 (whisper-large-v3-turbo).", field, "unsupported_parameter")


def test_text_srt_and_vtt_are_plain_text(deps):
    cases = {"text": TEXT + "\n", "srt": f"1\n00:00:00,000 --> 00:00:01,500\n{TEXT}\n",
             "vtt": f"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n{TEXT}\n"}
    for response_format, expected in cases.items():
        response = transcribe(deps, turbo(), response_format=response_format)
        assert (response.status, response.body) == (200, expected)
        assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_verbose_json_with_word_and_segment_timestamps(deps):
    response = transcribe(deps, turbo(language="de"), response_format="verbose_json",
                          **{"timestamp_granularities[]": ["word", "segment"]})
    body = response.body
    assert (body["task"], body["language"], body["duration"], body["text"]) == ("transcribe", "german", 1.5, TEXT)
    assert body["words"] == WORDS
    assert body["segments"] == [{"id": 0, "seek": 0, "start": 0.0, "end": 1.5, "text": TEXT, "tokens": [],
                                 "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2,
                                 "no_speech_prob": 0.01}]


def test_verbose_json_gives_segments_only_by_default(deps):
    body = transcribe(deps, turbo(), response_format="verbose_json").body
    assert "segments" in body and "words" not in body


def test_verbose_json_with_word_timestamps_only(deps):
    body = transcribe(deps, turbo(), response_format="verbose_json", **{"timestamp_granularities[]": "word"}).body
    assert "segments" not in body and body["words"] == WORDS


def test_temperature_zero_is_fine_other_values_refused(deps):
    assert transcribe(deps, turbo(), temperature="0").status == 200
    response = transcribe(deps, temperature="0.4")
    assert response.status == 400 and response.body["error"]["param"] == "temperature"
    assert response.body["error"]["code"] == "unsupported_parameter"
    assert "send 0 or omit it" in response.body["error"]["message"]


def test_stream_is_refused(deps):
    response = transcribe(deps, stream="true")
    assert response.status == 400 and response.body["error"]["param"] == "stream"


def test_file_over_25_mb_is_413_without_reading_it(deps):
    class Huge(MemoryBinary):
        async def read(self):
            raise AssertionError("read")
    file = Huge(b"", "audio/wav", "big.wav")
    file.size = MAX_FILE_BYTES + 1
    response = transcribe(deps, file=file)
    assert response.status == 413 and deps.ai.calls == []
    assert response.body == error(f"Maximum content size limit ({MAX_FILE_BYTES}) exceeded "
                                  f"({MAX_FILE_BYTES + 1} bytes read).", "file", "request_too_large")


@pytest.mark.parametrize("filename,content_type", [("notes.txt", "text/plain"), ("blob", "application/octet-stream"),
                                                   ("image.png", "image/png")])
def test_unsupported_file_types_are_400(deps, filename, content_type):
    response = transcribe(deps, file=upload(b"data", content_type, filename))
    assert response.status == 400 and deps.ai.calls == []
    assert response.body == error("Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', "
                                  "'mpga', 'oga', 'ogg', 'wav', 'webm']", "file", "invalid_file_format")


@pytest.mark.parametrize("filename,content_type,sent", [
    ("a.MP3", "application/octet-stream", "audio/mpeg"),  # the extension decides, its type is sent
    ("a.m4a", "audio/x-m4a", "audio/x-m4a"),  # a known declared type is kept
    ("recording", "audio/webm;codecs=opus", "audio/webm"),  # no extension: the content type decides
])
def test_file_types_by_extension_or_content_type(deps, filename, content_type, sent):
    assert transcribe(deps, turbo(), file=upload(b"data", content_type, filename)).status == 200
    assert model_inputs(deps)["audio"]["contentType"] == sent


def test_missing_empty_or_text_file(deps):
    response = run(app.handle(request("POST", "/v1/audio/transcriptions", form={"model": ["whisper-1"]}), deps))
    assert response.body == error("Missing required parameter: 'file'.", "file", "missing_required_parameter")
    assert transcribe(deps, file=upload(b"")).body["error"]["message"] == "The audio file is empty."
    response = audio_post(deps, "/v1/audio/transcriptions", file="text", model="whisper-1")
    assert response.status == 400 and response.body["error"]["param"] == "file"


def test_json_body_is_refused(deps):
    response = post(deps, "/v1/audio/transcriptions", {"model": "whisper-1"})
    assert response.status == 400 and response.body["error"]["code"] == "invalid_content_type"


def test_missing_model_and_bad_format(deps):
    form = {"file": [upload()]}
    response = run(app.handle(request("POST", "/v1/audio/transcriptions", form=form), deps))
    assert response.body == error("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    response = transcribe(deps, response_format="mp3")
    assert response.status == 400 and response.body["error"]["param"] == "response_format"


def test_chat_models_are_not_transcription_models(deps):
    response = transcribe(deps, model="gpt-4o")
    assert response.body == error("The model `gpt-4o` is not a speech-to-text model.", "model", "model_not_supported")


def test_a_result_without_text_is_502(deps):
    response = transcribe(deps, {"error": "?"})
    assert response.status == 502 and response.body["error"]["type"] == "server_error"


# --- translations ---------------------------------------------------------------------------------

def test_translation_uses_turbo_translate_task(deps):
    file = upload()
    response = translate(deps, turbo("Hello."), file=file, prompt="names", response_format="verbose_json")
    assert model_inputs(deps) == {"audio": {"body": file, "contentType": "audio/wav"}, "task": "translate",
                                  "initial_prompt": "names"}
    assert response.body["task"] == "translate" and response.body["language"] == "english"
    assert response.body["text"] == "Hello."


def test_translation_formats(deps):
    assert translate(deps, turbo("Hello."), response_format="text").body == "Hello.\n"
    assert translate(deps, turbo("Hello."), response_format="srt").body.startswith("1\n00:00:00,000 --> ")
    assert translate(deps, turbo("Hello.")).body == {"text": "Hello.", "usage": {"type": "duration", "seconds": 2}}


def test_classic_whisper_cannot_translate(deps):
    response = translate(deps, model="@cf/openai/whisper")
    assert response.body == error("The model `@cf/openai/whisper` cannot translate; use whisper-1 "
                                  "(whisper-large-v3-turbo).", "model", "model_not_supported")


# --- speech ---------------------------------------------------------------------------------------

def speak(deps, *answers, **body):
    for answer in answers:
        deps.ai.answer(answer)
    return post(deps, "/v1/audio/speech", {"model": "tts-1", "input": "Hello there", "voice": "alloy", **body})


MP3 = b"\xff\xfb\x90\x64" + bytes(413)


@pytest.mark.parametrize("alias", ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"])
def test_aura_stream_is_the_response_body_as_it_is(deps, alias):
    audio = MemoryBinary(MP3)
    response = speak(deps, audio, model=alias)
    assert response.status == 200 and response.body is audio
    assert response.headers["content-type"] == "audio/mpeg"
    assert deps.ai.calls == [("@cf/deepgram/aura-1", {"text": "Hello there", "speaker": "asteria",
                                                       "encoding": "mp3", "container": "none"}, None)]


@pytest.mark.parametrize("voice,speaker", [("alloy", "asteria"), ("echo", "orion"), ("fable", "helios"),
                                           ("onyx", "zeus"), ("nova", "luna"), ("shimmer", "stella"),
                                           ("coral", "athena"), ("sage", "hera"), ("ash", "arcas"),
                                           ("ballad", "orpheus"), ("verse", "perseus"), ("angus", "angus")])
def test_voices_map_to_aura_speakers(deps, voice, speaker):
    assert speak(deps, MemoryBinary(MP3), voice=voice).status == 200
    assert model_inputs(deps)["speaker"] == speaker


@pytest.mark.parametrize("response_format,encoding,container,content_type,extra", [
    ("mp3", "mp3", "none", "audio/mpeg", {}), ("opus", "opus", "ogg", "audio/opus", {}),
    ("aac", "aac", "none", "audio/aac", {}), ("flac", "flac", "none", "audio/flac", {}),
    ("wav", "linear16", "wav", "audio/wav", {}), ("pcm", "linear16", "none", "audio/pcm", {"sample_rate": 24000}),
])
def test_response_formats_map_to_aura_encodings(deps, response_format, encoding, container, content_type, extra):
    response = speak(deps, MemoryBinary(b"x"), response_format=response_format)
    assert response.headers["content-type"] == content_type
    assert model_inputs(deps) == {"text": "Hello there", "speaker": "asteria", "encoding": encoding,
                                  "container": container, **extra}


def test_unknown_voice_is_400(deps):
    response = speak(deps, voice="darth")
    assert response.status == 400 and deps.ai.calls == []
    assert response.body["error"]["param"] == "voice" and response.body["error"]["code"] == "invalid_value"
    assert response.body["error"]["message"].startswith("Invalid value for 'voice': 'darth' is not a supported voice.")


def test_melotts_answer_is_decoded_and_voice_picks_its_language(deps):
    response = speak(deps, {"audio": base64.b64encode(MP3).decode()}, model="@cf/myshell-ai/melotts", voice="fr")
    assert (response.status, response.body, response.headers["content-type"]) == (200, MP3, "audio/mpeg")
    assert model_inputs(deps) == {"prompt": "Hello there", "lang": "fr"}
    speak(deps, {"audio": base64.b64encode(MP3).decode()}, model="@cf/myshell-ai/melotts", voice="nova")
    assert deps.ai.calls[-1][1] == {"prompt": "Hello there", "lang": "en"}


def test_melotts_only_makes_mp3_and_knows_its_languages(deps):
    response = speak(deps, model="@cf/myshell-ai/melotts", response_format="wav")
    assert response.body == error("Unsupported parameter: 'response_format' 'wav' is not supported by "
                                  "@cf/myshell-ai/melotts, which only produces mp3.", "response_format",
                                  "unsupported_parameter")
    assert speak(deps, model="@cf/myshell-ai/melotts", voice="de").body["error"]["param"] == "voice"


def test_melotts_without_audio_is_502(deps):
    assert speak(deps, {"audio": "not base64!"}, model="@cf/myshell-ai/melotts").status == 502


@pytest.mark.parametrize("field,value", [("speed", 1.5), ("instructions", "Whisper it"), ("stream_format", "sse")])
def test_what_aura_cannot_do_is_refused(deps, field, value):
    response = speak(deps, **{field: value})
    assert response.status == 400 and deps.ai.calls == []
    assert response.body["error"]["param"] == field and response.body["error"]["code"] == "unsupported_parameter"


def test_speed_one_and_audio_stream_format_are_fine(deps):
    assert speak(deps, MemoryBinary(MP3), speed=1.0, stream_format="audio", instructions="").status == 200


@pytest.mark.parametrize("body,param", [({"input": "x" * 4097}, "input"), ({"input": ""}, "input"),
                                        ({"voice": {"id": "voice_1"}}, "voice"), ({"response_format": "ogg"}, "response_format"),
                                        ({"speed": 5}, "speed")])
def test_speech_validation(deps, body, param):
    response = speak(deps, **body)
    assert response.status == 400 and response.body["error"]["param"] == param


def test_input_of_4096_characters_is_fine(deps):
    assert speak(deps, MemoryBinary(MP3), input="x" * 4096).status == 200


def test_usage_is_recorded(deps):
    speak(deps, MemoryBinary(MP3))
    transcribe(deps, turbo())
    run(drain(deps))
    assert [(e["model"], e["endpoint"]) for e in deps.jobs.sent] == [
        ("@cf/deepgram/aura-1", "/v1/audio/speech"), (TURBO, "/v1/audio/transcriptions")]
