"""The questionnaire, built from the questions of the day, and the organisers' form for its wording."""
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from .. import czech
from ..forms import CzechForm
from . import service

SCALE = [SelectChoice("1", "1 – nejhorší"), SelectChoice("2", "2"), SelectChoice("3", "3"), SelectChoice("4", "4"),
         SelectChoice("5", "5 – nejlepší")]


class _Questionnaire(CzechForm):
    comment = TextAreaField(
        "Co chcete vzkázat lektorům a organizátorům?",
        validators=[Optional(), Length(max=service.COMMENT_MAX, message=f"Nejvýše {czech.count_noun(service.COMMENT_MAX, *czech.CHARACTERS)}.")],
        description="Nepovinné. Prosíme, nepište sem jména ani nic, podle čeho by šlo poznat vás nebo jiné lidi.",
    )

    def score_fields(self):
        return [self[f"q_{q.key}"] for q in self.questions]

    def scores(self) -> dict[str, int]:
        return {q.key: int(self[f"q_{q.key}"].data) for q in self.questions if self[f"q_{q.key}"].data}

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not self.scores() and not (self.comment.data or "").strip():
            # Next to the first question, where the person starts reading again.
            self.score_fields()[0].errors = [service.Empty.message]
            ok = False
        return ok


def questionnaire(questions, **kwargs) -> _Questionnaire:
    """A form with one optional 1–5 radio group per question (field q_<key>)."""

    class Questionnaire(_Questionnaire):
        pass

    for question in questions:
        setattr(Questionnaire, f"q_{question.key}", RadioField(
            question.text, choices=SCALE, validators=[Optional()], validate_choice=True))
    form = Questionnaire(**kwargs)
    form.questions = questions
    return form


class QuestionsForm(CzechForm):
    """The wording of the questions: one line each, by position (see service.save_questions)."""

    def texts(self) -> list[str]:
        return [self[f"otazka_{i}"].data or "" for i in range(1, service.MAX_QUESTIONS + 1)]


for _position in range(1, service.MAX_QUESTIONS + 1):
    setattr(QuestionsForm, f"otazka_{_position}", StringField(
        f"Otázka {_position}",
        validators=[Optional(), Length(max=service.QUESTION_MAX,
                                       message=f"Nejvýše {czech.count_noun(service.QUESTION_MAX, *czech.CHARACTERS)}.")],
    ))
