"""The questionnaire behind the link in the e-mail after a workshop."""
from flask import Blueprint, abort, redirect, render_template, url_for

from ..access import public
from ..security import limit_form_posts, private_page
from . import service
from .forms import questionnaire as questionnaire_form

# The package's own templates (<package>/templates/<package>/..., its e-mails among them), names
# namespaced by the folder so none shadows another's.
bp = Blueprint("feedback", __name__, url_prefix="/zpetna-vazba", template_folder="templates")


def _invitation_or_404(token):
    invitation = service.invitation_for_token(token)
    if invitation is None:
        abort(private_page(render_template("feedback/link_gone.html"), 404))
    return invitation


@bp.route("/<token>", methods=["GET", "POST"])
@public
@limit_form_posts
def questionnaire(token):
    invitation = _invitation_or_404(token)
    term = invitation.registration.term
    if invitation.answered_at is not None:
        return private_page(render_template("feedback/answered.html", term=term))
    form = questionnaire_form(service.questions())
    if form.validate_on_submit():
        try:
            service.submit(token, form.scores(), form.comment.data)
        except service.AlreadyAnswered:
            return private_page(render_template("feedback/answered.html", term=term))
        except service.Closed:
            abort(404)
        except service.Empty:
            form.score_fields()[0].errors = [service.Empty.message]
        except service.InvalidScore:  # the form refuses the same; only a stale form (questions changed) gets here
            form.form_errors.append("Otázky se mezitím změnily; zkontrolujte prosím odpovědi a odešlete je znovu.")
        else:
            return redirect(url_for(".thanks", token=token))
    status = 422 if form.is_submitted() else 200
    return private_page(render_template("feedback/questionnaire.html", form=form, term=term, token=token), status)


@bp.get("/<token>/dekujeme")
@public
def thanks(token):
    invitation = _invitation_or_404(token)
    if invitation.answered_at is None:
        return redirect(url_for(".questionnaire", token=token))
    return private_page(render_template("feedback/thanks.html", term=invitation.registration.term))
