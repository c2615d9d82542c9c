"""The e-mails after a workshop, written at once: her osvědčení and the questionnaire, then one reminder."""
from ..mail.composers import about, mail_templates, written
from ..urls import absolute_url

mail_templates("feedback", "feedback_invitation", "feedback_reminder")


def _after_term_message(kind, subject_prefix, registration, **extra):
    """A message after the term: plain context, written at once; no invitation attached."""
    term = registration.term
    context = {"registration": registration, "term": term, "offer": term.offer, **extra}
    return written(kind, registration.email, about(term, subject_prefix), context, registration=registration)


def feedback_invitation(registration, token, questionnaire_url, link_lifetime: str):
    """After the term, to each person marked present: her osvědčení (through her private link) and the questionnaire."""
    return _after_term_message("feedback_invitation", "Děkujeme za účast", registration,
                               manage_url=absolute_url("registration.manage", token=token),
                               questionnaire_url=questionnaire_url, link_lifetime=link_lifetime)


def feedback_reminder(registration, questionnaire_url):
    """The one reminder of an unanswered questionnaire."""
    return _after_term_message("feedback_reminder", "Připomínka dotazníku", registration,
                               questionnaire_url=questionnaire_url)
