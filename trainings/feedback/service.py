"""Feedback after a workshop: who is asked, one anonymous answer each, and results that identify nobody.

Rules
- Asked: every registration that earns an osvědčení (`certificates.rule.can_issue`:
  marked present on a term that took place and has ended, not anonymised), once, within
  INVITE_WINDOW of the term's end, so that switching this on does not write to
  people about workshops long past. The unique FeedbackInvitation.registration_id
  decides "once", also when two cron runs overlap.
- One reminder, REMINDER_AFTER after the invitation, to those who have not answered.
- The questionnaire's link works while the registration's private link would
  (until LINK_LIFETIME_AFTER_TERM after the end) and not for an erased person.
- One answer per invitation: answered_at is set by a conditional UPDATE in the
  same transaction as the answer's insert, so a double submit stores one answer.
- Anonymous to staff: FeedbackAnswer has no link to the invitation or the
  registration, only the term, the lecturer text and the day; the invitation's
  answered_at is kept to the day as well, so times cannot pair the two.
  Results are shown only for at least MIN_ANSWERS answers (and an average only
  from MIN_ANSWERS scores of its question); comments are listed alphabetically.
- The questions are a site setting (FEEDBACK_QUESTIONS) the organisers edit;
  DEFAULT_QUESTIONS apply until they do. An answer stores scores by question key,
  so a reworded question keeps its results.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import audit, czech
from ..certificates.rule import can_issue
from ..collation import czech_key, fold
from ..db_session import transaction
from ..errors import ServiceError
from ..extensions import db
from ..models import (
    ANONYMOUS_DOMAIN,
    FeedbackAnswer,
    FeedbackInvitation,
    Registration,
    RegistrationState,
    SiteSetting,
    Term,
    TermState,
    User,
    utcnow,
)
from ..reporting import Period
from ..registration import page_parts
from ..registration.service import LINK_LIFETIME_AFTER_TERM, in_days, issue_link, link_expiry
from ..timefmt import PRAGUE, local
from ..tokens import token_hash
from ..urls import absolute_url
from . import notifications

MIN_ANSWERS = 3
SCORES = range(1, 6)
INVITE_WINDOW = timedelta(days=30)
REMINDER_AFTER_DAYS = 4
COMMENT_MAX = 2000
QUESTION_MAX = 200
MAX_QUESTIONS = 8

FEEDBACK_QUESTIONS = "feedback_questions"
DEFAULT_QUESTIONS = (
    {"key": "obsah", "text": "Obsah workshopu"},
    {"key": "lektor", "text": "Lektorské vedení"},
    {"key": "praxe", "text": "Přínos pro vaši praxi"},
    {"key": "organizace", "text": "Organizace"},
)


@dataclass(frozen=True)
class Question:
    key: str
    text: str


# --- the questions --------------------------------------------------------------


def questions() -> list[Question]:
    """The questions asked now: the organisers' setting, or the defaults while there is none."""
    setting = db.session.get(SiteSetting, FEEDBACK_QUESTIONS)
    items = setting.value if setting is not None and setting.value else DEFAULT_QUESTIONS
    return [Question(item["key"], item["text"]) for item in items]


class QuestionsError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def save_questions(texts: list[str], actor: User) -> list[Question]:
    """New wording by position: the n-th text rewords the n-th question (its key and results stay),
    an empty one drops it, texts past the current ones are new questions with new keys."""
    current = questions()
    texts = [" ".join((t or "").split()) for t in texts][:MAX_QUESTIONS]
    if not any(texts):
        raise QuestionsError("Zadejte alespoň jednu otázku.")
    if any(len(t) > QUESTION_MAX for t in texts):
        raise QuestionsError(f"Otázka může mít nejvýše {czech.count_noun(QUESTION_MAX, *czech.CHARACTERS)}.")
    used = {q.key for q in current}
    saved = []
    for position, text in enumerate(texts):
        if not text:
            continue
        if position < len(current):
            key = current[position].key
        else:
            key = _new_key(used)
            used.add(key)
        saved.append({"key": key, "text": text})
    with transaction():
        setting = db.session.get(SiteSetting, FEEDBACK_QUESTIONS)
        if setting is None:
            setting = SiteSetting(key=FEEDBACK_QUESTIONS)
            db.session.add(setting)
        setting.value = saved
        setting.updated_at = utcnow()
        setting.updated_by_id = actor.id
    return [Question(item["key"], item["text"]) for item in saved]


def _new_key(used: set[str]) -> str:
    while True:
        key = f"otazka_{secrets.token_hex(3)}"
        if key not in used:
            return key


# --- asking ------------------------------------------------------------------------


def _token(registration_id: int) -> str:
    """The questionnaire's token, derived with the app's secret: the invitation and its one reminder
    carry the same link, and only the token's hash is stored."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, f"feedback-invitation:{registration_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def questionnaire_url(registration_id: int) -> str:
    return absolute_url("feedback.questionnaire", token=_token(registration_id))


def _not_anonymised():
    return ~Registration.email_normalized.endswith("@" + ANONYMOUS_DOMAIN)


def _due(now: datetime):
    """Who is owed the invitation now: marked present on a term that ended within INVITE_WINDOW,
    not asked yet. The query narrows; certificates.rule.can_issue is the rule itself."""
    return (
        select(Registration)
        .join(Term, Term.id == Registration.term_id)
        .outerjoin(FeedbackInvitation, FeedbackInvitation.registration_id == Registration.id)
        .where(
            FeedbackInvitation.id.is_(None),
            Registration.attended.is_(True),
            Registration.state == RegistrationState.CONFIRMED,
            Term.state == TermState.SCHEDULED,
            Term.ends_at <= now,
            Term.ends_at > now - INVITE_WINDOW,
            _not_anonymised(),
        )
    )


def send_invitations(now: datetime | None = None, term_id: int | None = None) -> int:
    """Queue the one e-mail (osvědčení link + questionnaire) for everyone due, or everyone due
    from one term; returns how many."""
    now = now or utcnow()
    with transaction():
        query = _due(now).options(joinedload(Registration.term).joinedload(Term.offer)).order_by(Registration.id)
        if term_id is not None:
            query = query.where(Registration.term_id == term_id)
        due = db.session.scalars(query).all()
        queued = 0
        for registration in due:
            if not can_issue(registration, now):  # the rule itself; the query only narrows
                continue
            try:
                with db.session.begin_nested():
                    db.session.add(FeedbackInvitation(registration_id=registration.id,
                                                      token_hash=token_hash(_token(registration.id)), sent_at=now))
                    db.session.flush()  # another run got here first: the unique registration_id says so now
                    notifications.feedback_invitation(registration, issue_link(registration, now),
                                                      questionnaire_url(registration.id),
                                                      in_days(LINK_LIFETIME_AFTER_TERM))
                    db.session.flush()
            except IntegrityError:
                continue
            queued += 1
    return queued


def send_reminders(after_days: int = REMINDER_AFTER_DAYS, now: datetime | None = None) -> int:
    """Queue the one reminder for invitations unanswered after `after_days`; returns how many."""
    now = now or utcnow()
    with transaction():
        due = db.session.scalars(
            select(FeedbackInvitation)
            .join(Registration, Registration.id == FeedbackInvitation.registration_id)
            .options(joinedload(FeedbackInvitation.registration).joinedload(Registration.term).joinedload(Term.offer))
            .where(
                FeedbackInvitation.answered_at.is_(None),
                FeedbackInvitation.reminded_at.is_(None),
                FeedbackInvitation.sent_at <= now - timedelta(days=after_days),
                _not_anonymised(),
            )
            .order_by(FeedbackInvitation.id)
        ).all()
        queued = 0
        for invitation in due:
            registration = invitation.registration
            if not _open(registration, now):
                continue
            taken = db.session.execute(
                update(FeedbackInvitation)
                .where(FeedbackInvitation.id == invitation.id, FeedbackInvitation.reminded_at.is_(None),
                       FeedbackInvitation.answered_at.is_(None))
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:  # another run reminded her, or she answered meanwhile
                continue
            notifications.feedback_reminder(registration, questionnaire_url(registration.id))
            queued += 1
    return queued


def send(after_days: int = REMINDER_AFTER_DAYS, now: datetime | None = None) -> tuple[int, int]:
    """What cron runs: new invitations, then due reminders."""
    return send_invitations(now), send_reminders(after_days, now)


# --- sending from the term's page ----------------------------------------------------------------
# The organiser need not wait for cron: the term's page sends the same invitations, through
# send_invitations, so each person still gets hers once however the two meet.


class NotDue(ServiceError):
    """The term's invitations cannot be sent (yet): `message` says why."""


@dataclass(frozen=True)
class TermSending:
    refusal: str | None  # why the button is not offered; None when it is
    waiting: int  # present people not sent theirs yet
    sent: int  # invitations already queued for this term
    last_sent_at: datetime | None


def term_sending(term: Term, now: datetime | None = None) -> TermSending:
    """What the term's page says about sending the osvědčení and questionnaire."""
    now = now or utcnow()
    sent, last = db.session.execute(
        select(func.count(FeedbackInvitation.id), func.max(FeedbackInvitation.sent_at))
        .join(Registration, Registration.id == FeedbackInvitation.registration_id)
        .where(Registration.term_id == term.id)
    ).one()
    waiting = [r for r in db.session.scalars(_due(now).where(Registration.term_id == term.id))
               if can_issue(r, now)]
    return TermSending(_refusal(term, now), len(waiting), sent, last)


def _refusal(term: Term, now: datetime) -> str | None:
    if term.state == TermState.CANCELLED:
        return "Termín je zrušený."
    if now < term.ends_at:
        return "Osvědčení a dotazník lze poslat až po skončení termínu."
    if term.ends_at <= now - INVITE_WINDOW:
        return (f"Osvědčení a dotazník se posílají nejpozději "
                f"{czech.count_noun(INVITE_WINDOW.days, 'den', 'dny', 'dní')} po skončení termínu.")
    present = db.session.scalar(select(func.count(Registration.id)).where(
        Registration.term_id == term.id, Registration.attended.is_(True),
        Registration.state == RegistrationState.CONFIRMED))
    if not present:
        return "Nikdo není zapsaný jako přítomný, není komu poslat osvědčení a dotazník."
    return None


def send_for_term(term_id: int, actor: User, now: datetime | None = None) -> int:
    """The organiser's "Poslat osvědčení a dotazník": queue the invitations still owed on this
    term (NotDue when the term has not ended, ended too long ago, or nobody is marked present);
    returns how many."""
    now = now or utcnow()
    term = db.session.get(Term, term_id)
    refusal = _refusal(term, now)
    if refusal:
        raise NotDue(refusal)
    with transaction():  # the invitations and their audit entry stand or fall together
        queued = send_invitations(now, term_id=term_id)
        audit.record("term.feedback_sent", db.session.get(Term, term_id), actor, count=queued)
    return queued


# --- answering -----------------------------------------------------------------------


def _open(registration: Registration, now: datetime) -> bool:
    """The questionnaire is open while her osvědčení stands and her private link would still work."""
    return can_issue(registration, now) and now < link_expiry(registration)


@dataclass(frozen=True)
class Questionnaire:
    url: str
    answered: bool


@page_parts.shows("questionnaire")
def questionnaire_of(registration: Registration, now: datetime | None = None) -> Questionnaire | None:
    """Her questionnaire for her registration's page: once it was sent to her, while it is open."""
    invitation = db.session.scalars(
        select(FeedbackInvitation).where(FeedbackInvitation.registration_id == registration.id)
    ).one_or_none()
    if invitation is None or not _open(registration, now or utcnow()):
        return None
    return Questionnaire(questionnaire_url(registration.id), invitation.answered_at is not None)


def invitation_for_token(token: str, now: datetime | None = None) -> FeedbackInvitation | None:
    """The invitation of a questionnaire link that is open (answered ones included), else None."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalars(
        select(FeedbackInvitation)
        .options(joinedload(FeedbackInvitation.registration).joinedload(Registration.term).joinedload(Term.offer))
        .where(FeedbackInvitation.token_hash == token_hash(token))
    ).one_or_none()
    if invitation is None or not _open(invitation.registration, now or utcnow()):
        return None
    return invitation


class AnswerError(Exception):
    pass


class Closed(AnswerError):
    pass


class AlreadyAnswered(AnswerError):
    pass


class Empty(AnswerError):
    message = "Vyplňte prosím alespoň jednu odpověď nebo komentář."


class InvalidScore(AnswerError):
    pass


def submit(token: str, scores: dict[str, int], comment: str | None, now: datetime | None = None) -> None:
    """Store one anonymous answer for the questionnaire behind `token`."""
    now = now or utcnow()
    invitation = invitation_for_token(token, now)
    if invitation is None:
        raise Closed()
    if invitation.answered_at is not None:
        raise AlreadyAnswered()
    keys = {q.key for q in questions()}
    scores = {key: value for key, value in scores.items() if value is not None}
    if any(key not in keys or value not in SCORES or isinstance(value, bool) for key, value in scores.items()):
        raise InvalidScore()
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > COMMENT_MAX:
        raise InvalidScore()
    if not scores and comment is None:
        raise Empty()
    invitation_id, term = invitation.id, invitation.registration.term
    term_id, lecturer = term.id, term.lecturer
    today = local(now).date()
    with transaction():  # an error anywhere, AlreadyAnswered too, rolls the whole answer back
        answered = db.session.execute(
            update(FeedbackInvitation)
            .where(FeedbackInvitation.id == invitation_id, FeedbackInvitation.answered_at.is_(None))
            # The day only (midnight in Prague): the answer keeps the day too, and two
            # timestamps side by side would pair an answer with the person who gave it.
            .values(answered_at=datetime.combine(today, time(0), PRAGUE))
            .execution_options(synchronize_session=False)
        ).rowcount
        if answered != 1:
            raise AlreadyAnswered()
        db.session.add(FeedbackAnswer(term_id=term_id, lecturer=lecturer, submitted_on=today, scores=scores,
                                      comment=comment))


# --- results ----------------------------------------------------------------------------


@dataclass
class Summary:
    """The answers about one thing (a term, a workshop over a period, a lecturer over a period)."""

    count: int = 0
    scores: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    comments: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.count >= MIN_ANSWERS

    def average(self, key: str) -> float | None:
        values = self.scores.get(key, [])
        if not self.shown or len(values) < MIN_ANSWERS:
            return None
        return round(sum(values) / len(values), 1)

    def scored(self, key: str) -> int:
        return len(self.scores.get(key, [])) if self.shown else 0

    def listed_comments(self) -> list[str]:
        """Alphabetically, not in the order they came: order would tell who wrote which."""
        return sorted(self.comments, key=czech_key) if self.shown else []


def _summarise(answers) -> Summary:
    summary = Summary()
    for answer in answers:
        summary.count += 1
        for key, value in (answer.scores or {}).items():
            summary.scores[key].append(value)
        if answer.comment:
            summary.comments.append(answer.comment)
    return summary


def _answers(period: Period | None = None, term_id: int | None = None, terms=None):
    stmt = (select(FeedbackAnswer).join(Term, Term.id == FeedbackAnswer.term_id)
            .options(joinedload(FeedbackAnswer.term).joinedload(Term.offer)))
    if terms is not None:
        stmt = stmt.where(terms)
    if period is not None:
        start, end = period.bounds()
        stmt = stmt.where(Term.starts_at >= start, Term.starts_at < end)
    if term_id is not None:
        stmt = stmt.where(FeedbackAnswer.term_id == term_id)
    return db.session.scalars(stmt).all()


@dataclass
class Row:
    label: str
    summary: Summary
    term: Term | None = None
    offer_id: int | None = None
    lecturer: str | None = None


@dataclass
class Results:
    period: Period
    questions: list[Question]
    by_term: list[Row]
    by_workshop: list[Row]
    by_lecturer: list[Row]


def results(period: Period, terms=None) -> Results:
    """Every term, workshop and lecturer with answers on terms that started in the period;
    `terms` (a WHERE clause on Term, access.term_filter) keeps only those a lecturer taught."""
    answers = _answers(period, terms=terms)
    terms: dict[int, list] = defaultdict(list)
    offers: dict[int, list] = defaultdict(list)
    lecturers: dict[str, list] = defaultdict(list)
    names: dict[str, str] = {}
    for answer in answers:
        terms[answer.term_id].append(answer)
        offers[answer.term.offer_id].append(answer)
        if answer.lecturer and answer.lecturer.strip():
            key = fold(" ".join(answer.lecturer.split()))
            lecturers[key].append(answer)
            names.setdefault(key, " ".join(answer.lecturer.split()))
    by_term = sorted(
        (Row(label=group[0].term.offer.title, summary=_summarise(group), term=group[0].term)
         for group in terms.values()),
        key=lambda row: (row.term.starts_at, row.term.id),
    )
    by_workshop = sorted(
        (Row(label=group[0].term.offer.title, summary=_summarise(group), offer_id=offer_id)
         for offer_id, group in offers.items()),
        key=lambda row: czech_key(row.label),
    )
    by_lecturer = sorted(
        (Row(label=names[key], summary=_summarise(group), lecturer=names[key]) for key, group in lecturers.items()),
        key=lambda row: czech_key(row.label),
    )
    return Results(period, questions(), by_term, by_workshop, by_lecturer)


def term_summary(term_id: int) -> Summary:
    return _summarise(_answers(term_id=term_id))


def workshop_summary(offer_id: int, period: Period) -> Summary:
    return _summarise(a for a in _answers(period) if a.term.offer_id == offer_id)


def lecturer_summary(lecturer: str, period: Period) -> Summary:
    wanted = fold(" ".join((lecturer or "").split()))
    return _summarise(a for a in _answers(period) if a.lecturer and fold(" ".join(a.lecturer.split())) == wanted)



# --- export --------------------------------------------------------------------------------

def _answers_noun(count: int) -> str:
    """After "od" (genitive): "od 1 odpovědi", "od 3 odpovědí"."""
    return czech.count_noun(count, "odpovědi", "odpovědí", "odpovědí")


def results_xlsx(found: Results) -> bytes:
    """The same tables as the page, for project reporting: one sheet per view, and the comments
    of what has enough answers, each under its term, alphabetically."""
    from ..project import facts as project_facts
    from ..exports.xlsx import workbook_of_sheets
    from ..timefmt import term_span

    project = project_facts()
    header_tail = ["Odpovědi", *[q.text for q in found.questions]]
    widths_tail = [11, *[16 for _ in found.questions]]

    def cells(summary: Summary) -> list:
        if not summary.shown:
            return [f"méně než {czech.count_noun(MIN_ANSWERS, 'odpověď', 'odpovědi', 'odpovědí')}",
                    *["" for _ in found.questions]]
        return [summary.count, *[summary.average(q.key) if summary.average(q.key) is not None else ""
                                 for q in found.questions]]

    about = [
        ["Spolufinancováno Evropskou unií", ""],
        ["Projekt", project["name"]],
        ["Registrační číslo", project["reg_no"]],
        ["Období (termíny, které v něm začaly)", found.period.label],
        ["Stupnice", f"1 (nejhorší) až 5 (nejlepší); výsledky ukazujeme od {_answers_noun(MIN_ANSWERS)} "
                     "na termín, workshop nebo lektorské vedení, průměr otázky od tolika hodnocení"],
    ]
    comments = [[row.label, term_span(row.term.starts_at, row.term.ends_at), text]
                for row in found.by_term for text in row.summary.listed_comments()]
    return workbook_of_sheets([
        ("Souhrn", ["Údaj", "Hodnota"], [34, 90], about),
        ("Termíny", ["Workshop", "Termín", *header_tail], [50, 34, *widths_tail],
         [[row.label, term_span(row.term.starts_at, row.term.ends_at), *cells(row.summary)] for row in found.by_term]),
        ("Workshopy", ["Workshop", *header_tail], [60, *widths_tail],
         [[row.label, *cells(row.summary)] for row in found.by_workshop]),
        ("Lektoři", ["Lektorské vedení", *header_tail], [50, *widths_tail],
         [[row.label, *cells(row.summary)] for row in found.by_lecturer]),
        ("Komentáře", ["Workshop", "Termín", "Komentář"], [50, 34, 100], comments),
    ])
