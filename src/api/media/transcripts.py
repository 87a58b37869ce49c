"""Transcripts in OpenAI's response formats (json, text, srt, vtt, verbose_json), built from a Workers
AI whisper result: segments and words (whisper-large-v3-turbo) or only words (whisper, -tiny-en).
Stdlib only."""
import math
import re
from dataclasses import dataclass, field
from typing import List, Optional

# Whisper's language codes and the names OpenAI's verbose_json reports ("_" stands for a space).
LANGUAGES = dict(pair.split(":") for pair in """
en:english zh:chinese de:german es:spanish ru:russian ko:korean fr:french ja:japanese pt:portuguese
tr:turkish pl:polish ca:catalan nl:dutch ar:arabic sv:swedish it:italian id:indonesian hi:hindi
fi:finnish vi:vietnamese he:hebrew uk:ukrainian el:greek ms:malay cs:czech ro:romanian da:danish
hu:hungarian ta:tamil no:norwegian th:thai ur:urdu hr:croatian bg:bulgarian lt:lithuanian la:latin
mi:maori ml:malayalam cy:welsh sk:slovak te:telugu fa:persian lv:latvian bn:bengali sr:serbian
az:azerbaijani sl:slovenian kn:kannada et:estonian mk:macedonian br:breton eu:basque is:icelandic
hy:armenian ne:nepali mn:mongolian bs:bosnian kk:kazakh sq:albanian sw:swahili gl:galician mr:marathi
pa:punjabi si:sinhala km:khmer sn:shona yo:yoruba so:somali af:afrikaans oc:occitan ka:georgian
be:belarusian tg:tajik sd:sindhi gu:gujarati am:amharic yi:yiddish lo:lao uz:uzbek fo:faroese
ht:haitian_creole ps:pashto tk:turkmen nn:nynorsk mt:maltese sa:sanskrit lb:luxembourgish my:myanmar
bo:tibetan tl:tagalog mg:malagasy as:assamese tt:tatar haw:hawaiian ln:lingala ha:hausa ba:bashkir
jw:javanese su:sundanese yue:cantonese
""".split())
_SENTENCE_END = re.compile(r"[.!?…。！？]$")


@dataclass
class Word:
    word: str
    start: float
    end: float


@dataclass
class Segment:
    start: float
    end: float
    text: str
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0


@dataclass
class Transcript:
    text: str
    duration: float
    language: Optional[str] = None  # ISO code, when the model reports one
    segments: List[Segment] = field(default_factory=list)
    words: List[Word] = field(default_factory=list)


def _number(value, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) else default


def _words(raw) -> List[Word]:
    return [Word(str(w.get("word", "")).strip(), _number(w.get("start")), _number(w.get("end")))
            for w in raw or [] if isinstance(w, dict)]


def _segment(raw: dict) -> Segment:
    return Segment(_number(raw.get("start")), _number(raw.get("end")), str(raw.get("text") or "").strip(),
                   _number(raw.get("temperature")), _number(raw.get("avg_logprob")),
                   _number(raw.get("compression_ratio")), _number(raw.get("no_speech_prob")))


def sentences(words: List[Word]) -> List[Segment]:
    """Segments for a model that gives only words: one per sentence."""
    segments, current = [], []
    for word in words:
        current.append(word)
        if _SENTENCE_END.search(word.word):
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    return [Segment(group[0].start, group[-1].end, " ".join(w.word for w in group)) for group in segments]


def from_whisper(result: dict) -> Transcript:
    """A whisper result (either family's shape) as a Transcript."""
    info = result.get("transcription_info") if isinstance(result.get("transcription_info"), dict) else {}
    raw_segments = [s for s in result.get("segments") or [] if isinstance(s, dict)]
    words = _words(result.get("words")) or [w for s in raw_segments for w in _words(s.get("words"))]
    segments = [_segment(s) for s in raw_segments] or sentences(words)
    text = str(result.get("text") or "").strip()
    ends = [s.end for s in segments] + [w.end for w in words]
    duration = _number(info.get("duration"), max(ends, default=0.0))
    if not segments and text:
        segments = [Segment(0.0, duration, text)]
    return Transcript(text, duration, info.get("language") or None, segments, words)


def timestamp(seconds: float, separator: str) -> str:
    """00:00:01,500 (SRT, separator ",") or 00:00:01.500 (WebVTT, separator ".")."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cues(transcript: Transcript, separator: str) -> List[str]:
    return [f"{timestamp(s.start, separator)} --> {timestamp(s.end, separator)}\n{s.text}\n"
            for s in transcript.segments if s.text]


def srt(transcript: Transcript) -> str:
    return "\n".join(f"{i}\n{cue}" for i, cue in enumerate(_cues(transcript, ","), 1))


def vtt(transcript: Transcript) -> str:
    return "WEBVTT\n\n" + "\n".join(_cues(transcript, "."))


def text(transcript: Transcript) -> str:
    return transcript.text + "\n"


def duration_usage(transcript: Transcript) -> dict:
    """OpenAI bills whisper-1 by whole seconds of audio and reports them so."""
    return {"type": "duration", "seconds": math.ceil(transcript.duration)}


def json_object(transcript: Transcript) -> dict:
    return {"text": transcript.text, "usage": duration_usage(transcript)}


def language_name(code: Optional[str]) -> str:
    if not code:
        return "unknown"
    return LANGUAGES.get(code.lower(), code.lower()).replace("_", " ")


def verbose(transcript: Transcript, task: str, segments: bool = True, words: bool = False) -> dict:
    """verbose_json: segments unless only word timestamps were asked for, words when asked for.
    Workers AI gives no token ids, so `tokens` is empty; `seek` is the segment start in
    centiseconds (whisper's frame unit)."""
    language = "english" if task == "translate" else language_name(transcript.language)
    body = {"task": task, "language": language, "duration": round(transcript.duration, 3),
            "text": transcript.text}
    if segments:
        body["segments"] = [{"id": i, "seek": round(s.start * 100), "start": s.start, "end": s.end,
                             "text": s.text, "tokens": [], "temperature": s.temperature,
                             "avg_logprob": s.avg_logprob, "compression_ratio": s.compression_ratio,
                             "no_speech_prob": s.no_speech_prob}
                            for i, s in enumerate(transcript.segments)]
    if words:
        body["words"] = [{"word": w.word, "start": w.start, "end": w.end} for w in transcript.words]
    body["usage"] = duration_usage(transcript)
    return body
