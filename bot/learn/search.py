"""What works (SPEC §12): `/impact learn WORDS` searches what the initiative has shared —
wins, the stories behind the curve and answered questions — newest first.

Each source is one function in `SOURCES` that answers its matching `Hit`s. Only what was
shared is searchable: wins once posted to the wins channel (a private message's win only
after its author approved it; a declined one never), stories as they stand (one replaced
by a newer story of the same partner, measure and period is history, not found again),
answers given in a question's public thread. Community voice is never a source: it is
anonymous and stays with the backbone.

Matching: on PostgreSQL, full-text search (`to_tsvector('english', …) @@
plainto_tsquery('english', WORDS)`: "families" finds "family", stop words are ignored);
on SQLite every word must appear in the text (case-insensitive).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.measures.rba_data import STORY_HEADINGS
from storage.models import Answer, Measure, Partner, Question, Story, Win, WinStatus

LIMIT = 10
MAX_WORDS = 12
_WORD = re.compile(r"[\w'-]{2,}", re.UNICODE)

HitKind = Literal["win", "story", "answer"]


@dataclass(frozen=True)
class Hit:
    kind: HitKind
    at: datetime
    author_id: str
    text: str
    channel: str | None  # where its post is (a permalink is asked for it)
    ts: str | None
    partner_name: str | None = None
    measure_name: str | None = None
    question: str | None = None  # an answer's question
    asker_id: str | None = None
    period: str | None = None  # a story's period key


def words_of(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)][:MAX_WORDS]


def matches(session: Session, column: Any, words: Sequence[str]) -> ColumnElement[bool]:
    """`column` matches every word (PostgreSQL: full text, with stemming)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_tsvector("english", column).op("@@")(
            func.plainto_tsquery("english", " ".join(words)))
    return and_(*(column.ilike(f"%{_escape(w)}%", escape="\\") for w in words))


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _wins(session: Session, words: Sequence[str], limit: int) -> list[Hit]:
    rows = session.execute(
        select(Win, Partner.name, Measure.name)
        .outerjoin(Partner, Partner.id == Win.partner_id)
        .outerjoin(Measure, Measure.id == Win.measure_id)
        .where(Win.status == WinStatus.POSTED, Win.posted_at.is_not(None),
               matches(session, Win.text, words))
        .order_by(Win.posted_at.desc(), Win.id.desc()).limit(limit))
    return [Hit("win", win.posted_at or win.created_at, win.author_id, win.text, win.posted_channel,
                win.posted_ts, partner, measure) for win, partner, measure in rows]


def _stories(session: Session, words: Sequence[str], limit: int) -> list[Hit]:
    told = (Story.helping + " · " + Story.hurting + " · " + Story.partners_role + " · "
            + Story.what_works + " · " + Story.proposal)
    rows = session.execute(
        select(Story, Partner.name, Measure.name)
        .join(Partner, Partner.id == Story.partner_id)
        .join(Measure, Measure.id == Story.measure_id)
        .where(Story.is_current.is_(True), matches(session, told, words))
        .order_by(Story.written_at.desc(), Story.id.desc()).limit(limit))
    return [Hit("story", story.written_at, story.written_by,
                " · ".join(f"{heading}: {getattr(story, column)}"
                           for column, heading in STORY_HEADINGS if getattr(story, column)),
                None, None, partner, measure, period=story.period)
            for story, partner, measure in rows]


def _answers(session: Session, words: Sequence[str], limit: int) -> list[Hit]:
    rows = session.execute(
        select(Answer, Question, Measure.name)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(Measure, Measure.id == Question.measure_id)
        .where(or_(matches(session, Answer.text, words),
                   matches(session, Question.text, words)))
        .order_by(Answer.created_at.desc(), Answer.id.desc()).limit(limit))
    return [Hit("answer", answer.created_at, answer.user_id, answer.text, answer.channel,
                answer.ts, None, measure, question.text, question.asker_id)
            for answer, question, measure in rows]


Source = Callable[[Session, Sequence[str], int], list[Hit]]
SOURCES: tuple[Source, ...] = (_wins, _stories, _answers)


def search(session: Session, query: str, limit: int = LIMIT) -> list[Hit]:
    """The newest `limit` hits across every source."""
    words = words_of(query)
    if not words:
        return []
    hits = [hit for source in SOURCES for hit in source(session, words, limit)]
    return sorted(hits, key=lambda h: h.at, reverse=True)[:limit]
