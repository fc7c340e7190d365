"""A recording to a transcript: regions of speech per channel, decoded, attributed."""

from __future__ import annotations

from .audio import Recording, speech_regions
from .engine import SpeechEngine
from .transcript import Segment, Transcript, segment


def transcribe(engine: SpeechEngine, recording: Recording, *,
               channel_roles: dict[int, str] | None = None,
               hot_words: list[str] | None = None) -> Transcript:
    roles = channel_roles or {}
    usable, unknown = engine.normalise_hot_words(hot_words or [])
    segments: list[Segment] = []
    for channel, pcm in enumerate(recording.channels):
        role = roles.get(channel, "unknown")
        words = []
        for start, end in speech_regions(pcm, recording.rate):
            words.extend(engine.transcribe(pcm[start:end], offset=start / recording.rate,
                                           hot_words=usable))
        segments.extend(segment(words, channel=channel, role=role))
    segments.sort(key=lambda s: (s.start, s.channel))
    return Transcript(segments=segments, duration=round(recording.seconds, 2),
                      model=engine.describe(), hot_words=list(usable),
                      hot_words_unknown=unknown)
