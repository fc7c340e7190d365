"""Words into segments, channels into speaker roles, segments into a trial record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .engine import Word

ROLES = {
    "judge": "审判员 Judge", "presiding_judge": "审判长 Presiding judge",
    "plaintiff": "原告 Plaintiff", "defendant": "被告 Defendant", "clerk": "书记员 Clerk",
    "witness": "证人 Witness", "agent": "代理人 Agent", "third_party": "第三人 Third party",
    "mediator": "调解员 Mediator", "unknown": "未识别 Speaker",
}


@dataclass
class Segment:
    start: float
    end: float
    channel: int
    role: str
    text: str
    confidence: float
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    segments: list[Segment]
    duration: float
    model: dict[str, str]
    hot_words: list[str] = field(default_factory=list)
    hot_words_unknown: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.segments if s.text)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["text"] = self.text
        out["characters"] = len(self.text.replace("\n", " "))
        return out


def segment(words: list[Word], *, channel: int, role: str, gap: float = 0.8,
            max_seconds: float = 30.0) -> list[Segment]:
    """Consecutive words become one segment until a pause of `gap` seconds."""
    segments: list[Segment] = []
    current: list[Word] = []

    def close() -> None:
        if current:
            segments.append(Segment(
                start=current[0].start, end=current[-1].end, channel=channel, role=role,
                text=" ".join(w.text for w in current),
                confidence=round(sum(w.confidence for w in current) / len(current), 4),
                words=list(current)))
            current.clear()

    for w in words:
        if current and (w.start - current[-1].end > gap
                        or w.end - current[0].start > max_seconds):
            close()
        current.append(w)
    close()
    return segments


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def trial_record(transcript: Transcript, *, case_id: str | None = None,
                 title: str = "庭审笔录 Trial record", low_confidence: float = 0.5) -> str:
    """A Markdown trial record: header, then one paragraph per turn with time and speaker.

    Consecutive segments of one speaker are one turn. Words below `low_confidence` are
    marked with a trailing `(?)` for the clerk to check against the recording.
    """
    lines = [f"# {title}", ""]
    if case_id:
        lines.append(f"- 案号 Case: {case_id}")
    lines += [
        f"- 生成时间 Generated: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- 录音时长 Duration: {clock(transcript.duration)}",
        f"- 识别模型 Model: {transcript.model.get('engine', '')}, "
        f"{transcript.model.get('model', '')}",
        "- 标注 (?) 的词置信度低, 请核对录音。 "
        "Words marked (?) are uncertain: check the recording.",
        "",
    ]
    turn: dict[str, Any] = {"role": None, "start": 0.0, "words": []}

    def flush() -> None:
        if turn["role"] is not None and turn["words"]:
            label = ROLES.get(turn["role"], turn["role"])
            lines.append(f"**[{clock(turn['start'])}] {label}:** {' '.join(turn['words'])}")
            lines.append("")

    for seg in sorted(transcript.segments, key=lambda s: s.start):
        if seg.role != turn["role"]:
            flush()
            turn.update(role=seg.role, start=seg.start, words=[])
        turn["words"].extend(w.text + ("(?)" if w.confidence < low_confidence else "")
                             for w in seg.words)
    flush()
    return "\n".join(lines).rstrip() + "\n"
