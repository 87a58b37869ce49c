"""api.media.transcripts: whisper results (both families) → OpenAI's json, text, srt, vtt, verbose_json."""
import pytest

from api.media import transcripts
from api.media.transcripts import Segment, Transcript, Word

TURBO = {
    "transcription_info": {"language": "fr", "language_probability": 0.97, "duration": 3725.25,
                           "duration_after_vad": 3725.25},
    "text": " Bonjour. Ça va?",
    "word_count": 3,
    "segments": [
        {"start": 0.0, "end": 1.5, "text": " Bonjour.", "temperature": 0.0, "avg_logprob": -0.21,
         "compression_ratio": 0.8, "no_speech_prob": 0.02,
         "words": [{"word": " Bonjour.", "start": 0.0, "end": 1.5}]},
        {"start": 3723.0, "end": 3725.25, "text": " Ça va?", "temperature": 0.2, "avg_logprob": -0.4,
         "compression_ratio": 1.1, "no_speech_prob": 0.05,
         "words": [{"word": " Ça", "start": 3723.0, "end": 3724.0}, {"word": " va?", "start": 3724.0, "end": 3725.25}]},
    ],
    "vtt": "WEBVTT\n\n…",
}
# Classic whisper: words only, no segments and no language.
CLASSIC = {"text": "Hello there. General Kenobi", "word_count": 4,
           "words": [{"word": "Hello", "start": 0.0, "end": 0.4}, {"word": "there.", "start": 0.4, "end": 0.9},
                     {"word": "General", "start": 1.2, "end": 1.7}, {"word": "Kenobi", "start": 1.7, "end": 2.25}],
           "vtt": "WEBVTT\n\n…"}


@pytest.mark.parametrize("seconds,srt,vtt", [
    (0, "00:00:00,000", "00:00:00.000"),
    (1.5, "00:00:01,500", "00:00:01.500"),
    (61.0004, "00:01:01,000", "00:01:01.000"),
    (3725.2506, "01:02:05,251", "01:02:05.251"),
    (-0.01, "00:00:00,000", "00:00:00.000"),
])
def test_timestamps(seconds, srt, vtt):
    assert transcripts.timestamp(seconds, ",") == srt
    assert transcripts.timestamp(seconds, ".") == vtt


def test_turbo_result_keeps_its_segments_words_language_and_duration():
    t = transcripts.from_whisper(TURBO)
    assert t.text == "Bonjour. Ça va?" and t.language == "fr" and t.duration == 3725.25
    assert t.segments == [Segment(0.0, 1.5, "Bonjour.", 0.0, -0.21, 0.8, 0.02),
                          Segment(3723.0, 3725.25, "Ça va?", 0.2, -0.4, 1.1, 0.05)]
    assert t.words == [Word("Bonjour.", 0.0, 1.5), Word("Ça", 3723.0, 3724.0), Word("va?", 3724.0, 3725.25)]


def test_classic_result_gets_one_segment_per_sentence_from_its_words():
    t = transcripts.from_whisper(CLASSIC)
    assert t.language is None and t.duration == 2.25
    assert t.segments == [Segment(0.0, 0.9, "Hello there."), Segment(1.2, 2.25, "General Kenobi")]


def test_text_without_words_is_one_segment():
    t = transcripts.from_whisper({"text": "Hi", "transcription_info": {"duration": 2}})
    assert t.segments == [Segment(0.0, 2.0, "Hi")] and t.words == []
    assert transcripts.srt(transcripts.from_whisper({"text": ""})) == ""


def test_srt():
    assert transcripts.srt(transcripts.from_whisper(TURBO)) == (
        "1\n00:00:00,000 --> 00:00:01,500\nBonjour.\n\n"
        "2\n01:02:03,000 --> 01:02:05,250\nÇa va?\n")


def test_vtt():
    assert transcripts.vtt(transcripts.from_whisper(CLASSIC)) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:00.900\nHello there.\n\n"
        "00:00:01.200 --> 00:00:02.250\nGeneral Kenobi\n")


def test_empty_segments_make_no_cues():
    t = Transcript("x", 2.0, segments=[Segment(0, 1, ""), Segment(1, 2, "x")])
    assert transcripts.srt(t) == "1\n00:00:01,000 --> 00:00:02,000\nx\n"


def test_text_and_json():
    t = transcripts.from_whisper(TURBO)
    assert transcripts.text(t) == "Bonjour. Ça va?\n"
    assert transcripts.json_object(t) == {"text": "Bonjour. Ça va?", "usage": {"type": "duration", "seconds": 3726}}


def test_verbose_json_with_segments():
    assert transcripts.verbose(transcripts.from_whisper(TURBO), "transcribe") == {
        "task": "transcribe", "language": "french", "duration": 3725.25, "text": "Bonjour. Ça va?",
        "segments": [
            {"id": 0, "seek": 0, "start": 0.0, "end": 1.5, "text": "Bonjour.", "tokens": [], "temperature": 0.0,
             "avg_logprob": -0.21, "compression_ratio": 0.8, "no_speech_prob": 0.02},
            {"id": 1, "seek": 372300, "start": 3723.0, "end": 3725.25, "text": "Ça va?", "tokens": [],
             "temperature": 0.2, "avg_logprob": -0.4, "compression_ratio": 1.1, "no_speech_prob": 0.05},
        ],
        "usage": {"type": "duration", "seconds": 3726},
    }


def test_verbose_json_with_words_only():
    body = transcripts.verbose(transcripts.from_whisper(CLASSIC), "transcribe", segments=False, words=True)
    assert "segments" not in body and body["language"] == "unknown"
    assert body["words"] == [{"word": "Hello", "start": 0.0, "end": 0.4}, {"word": "there.", "start": 0.4, "end": 0.9},
                             {"word": "General", "start": 1.2, "end": 1.7}, {"word": "Kenobi", "start": 1.7, "end": 2.25}]


def test_translation_is_reported_in_english():
    body = transcripts.verbose(transcripts.from_whisper(TURBO), "translate")
    assert body["task"] == "translate" and body["language"] == "english"


@pytest.mark.parametrize("code,name", [("en", "english"), ("HT", "haitian creole"), ("yue", "cantonese"),
                                       ("xx", "xx"), (None, "unknown")])
def test_language_names(code, name):
    assert transcripts.language_name(code) == name


def test_every_whisper_language_has_a_name():
    assert len(transcripts.LANGUAGES) == 100 and all(transcripts.LANGUAGES.values())
