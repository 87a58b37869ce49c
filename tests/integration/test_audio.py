"""Audio through the official SDK against the real worker and the stand-in: a synthesized WAV
transcribed and translated in every response format, speech in MP3 and WAV (streamed too), and the
refusals (over 25 MB, wrong file type, unknown voice)."""
import io
import math
import struct
import wave

import openai
import pytest

# The SDK marks translations deprecated; the endpoint is still part of the API.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
RATE = 16_000
TEXT = "Audio of 1.50 seconds."


def tone(seconds=1.5, hz=440, rate=RATE, head: bytes = b"") -> bytes:
    """A mono 16-bit WAV of a sine tone; `head` replaces its first sample bytes (the stand-in's
    failure switch)."""
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate)))
                      for i in range(int(seconds * rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(head + frames[len(head):])
    return out.getvalue()


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    path.write_bytes(tone())
    return path


def test_transcription_json(client, wav):
    with open(wav, "rb") as file:
        result = client.audio.transcriptions.create(model="whisper-1", file=file)
    assert result.text == TEXT
    assert result.usage.type == "duration" and result.usage.seconds == 2


@pytest.mark.parametrize("response_format,expected", [
    ("text", TEXT + "\n"),
    ("srt", f"1\n00:00:00,000 --> 00:00:01,500\n{TEXT}\n"),
    ("vtt", f"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n{TEXT}\n"),
])
def test_transcription_text_formats_are_strings(client, wav, response_format, expected):
    with open(wav, "rb") as file:
        result = client.audio.transcriptions.create(model="whisper-1", file=file, response_format=response_format)
    assert result == expected


def test_transcription_verbose_json_with_words(client, wav):
    with open(wav, "rb") as file:
        result = client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=file, response_format="verbose_json", language="fr",
            prompt="A tone.", timestamp_granularities=["word", "segment"])
    assert (result.language, result.duration, result.text) == ("french", 1.5, TEXT)
    assert [(w.word, w.start, w.end) for w in result.words] == [
        ("Audio", 0.0, 0.375), ("of", 0.375, 0.75), ("1.50", 0.75, 1.125), ("seconds.", 1.125, 1.5)]
    [segment] = result.segments
    assert (segment.id, segment.start, segment.end, segment.text) == (0, 0.0, 1.5, TEXT)


@pytest.mark.parametrize("model", ["@cf/openai/whisper", "@cf/openai/whisper-tiny-en"])
def test_classic_whisper_from_a_byte_array(client, wav, model):
    with open(wav, "rb") as file:
        result = client.audio.transcriptions.create(model=model, file=file, response_format="srt")
    assert result == f"1\n00:00:00,000 --> 00:00:01,500\n{TEXT}\n"


def test_translation(client, wav):
    with open(wav, "rb") as file:
        result = client.audio.translations.create(model="whisper-1", file=file)
    assert result.text == "Translated audio of 1.50 seconds."
    with open(wav, "rb") as file:
        verbose = client.audio.translations.create(model="whisper-1", file=file, response_format="verbose_json")
    assert verbose.language == "english" and verbose.segments[0].end == 1.5
    with open(wav, "rb") as file:
        vtt = client.audio.translations.create(model="whisper-1", file=file, response_format="vtt")
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nTranslated audio of 1.50 seconds.\n"


def test_a_file_over_25_mb_is_413(client):
    big = b"RIFF" + bytes(25 * 1024 * 1024 + 10)
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("big.wav", big, "audio/wav"))
    assert caught.value.status_code == 413 and caught.value.body["param"] == "file"


def test_an_unsupported_file_type_is_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("notes.txt", b"hello", "text/plain"))
    assert caught.value.body["code"] == "invalid_file_format"


def test_an_upstream_failure_in_the_audio(client):
    with pytest.raises(openai.RateLimitError):
        client.audio.transcriptions.create(model="whisper-1", file=("fail.wav", tone(0.2, head=b"FAIL3040")))


def test_speech_mp3(client):
    response = client.audio.speech.with_raw_response.create(model="tts-1", voice="alloy", input="Hello there")
    audio = response.content
    assert response.headers["content-type"] == "audio/mpeg"
    assert audio[:2] == b"\xff\xfb" and len(audio) % 417 == 0
    again = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello there").read()
    other = client.audio.speech.create(model="tts-1", voice="onyx", input="Hello there").read()
    assert again == audio != other  # deterministic, and the voice matters


def test_speech_wav_streamed(client):
    with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="nova", input="Hello there, streaming", response_format="wav") as response:
        assert response.headers["content-type"] == "audio/wav"
        audio = b"".join(response.iter_bytes())
    with wave.open(io.BytesIO(audio)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        assert w.getnframes() == 18000  # 0.25 s per word in the stand-in


def test_speech_melotts(client):
    response = client.audio.speech.with_raw_response.create(
        model="@cf/myshell-ai/melotts", voice="fr", input="Bonjour")
    assert response.headers["content-type"] == "audio/mpeg" and response.content[:2] == b"\xff\xfb"


def test_speech_unknown_voice_is_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="tts-1", voice="darth", input="Hello")
    assert caught.value.body["param"] == "voice"


def test_speech_speed_is_refused(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hello", speed=1.25)
    assert caught.value.body["code"] == "unsupported_parameter"
