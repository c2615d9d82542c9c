"""Sign-up for a term and the private page of one registration."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import csrf, db
from ..models import EmployerType, Term
from ..places import regions_with_orps
from ..security import limit_form_posts
from . import service
from .forms import CancelForm, RegistrationForm, ResendLinkForm

bp = Blueprint("registration", __name__)


def _public_term(term_id: int) -> Term:
    term = db.session.scalars(
        select(Term).options(joinedload(Term.offer), joinedload(Term.region)).where(Term.id == term_id)
    ).one_or_none()
    if term is None or not term.public:
        abort(404)
    return term


def _render_form(term, form, status=200, duplicate=False):
    usage = service.seat_usage(term)
    return (
        render_template(
            "registration/form.html",
            term=term,
            form=form,
            usage=usage,
            resend_form=ResendLinkForm(email=form.email.data) if duplicate else None,
        ),
        status,
    )


@bp.route("/termin/<int:term_id>/prihlaska", methods=["GET", "POST"])
@limit_form_posts
@csrf.exempt  # the form checks its own token, so an expired one re-shows her data with a Czech message
def register(term_id):
    term = _public_term(term_id)
    form = RegistrationForm()
    form.set_places(regions_with_orps())
    if not form.validate_on_submit():
        return _render_form(term, form, 422 if form.is_submitted() else 200)
    applicant = service.Applicant(
        name=form.name.data,
        email=form.email.data,
        phone=form.phone.data,
        employer_type=EmployerType(form.employer_type.data),
        job_title=form.job_title.data,
        region_id=form.region.data,
        orp_id=form.orp.data,
    )
    try:
        outcome = service.register(term.id, applicant)
    except service.AlreadyRegistered as exc:
        form.email.errors.append(exc.message)
        return _render_form(term, form, 409, duplicate=True)
    except service.NotEligible as exc:
        form.region.errors.append(exc.message)
        return _render_form(term, form, 422)
    except service.TermNotFound:
        abort(404)
    except service.RegistrationError as exc:
        form.form_errors.append(exc.message)
        return _render_form(term, form, 409)
    if outcome.waitlist_position is None:
        flash("Přihláška je potvrzená. Potvrzení jsme poslali na váš e-mail.", "success")
    else:
        flash(
            f"Termín je obsazený, zapsali jsme vás na čekací listinu ({outcome.waitlist_position}. místo). "
            "Když se místo uvolní, přesuneme vás automaticky a napíšeme vám.",
            "info",
        )
    return redirect(url_for(".manage", token=outcome.token))


@bp.post("/termin/<int:term_id>/odkaz")
@limit_form_posts
def resend_link(term_id):
    term = _public_term(term_id)
    form = ResendLinkForm()
    if form.validate_on_submit():
        service.resend_link(term.id, form.email.data)
        # The same answer either way, so the form does not tell who is registered.
        flash("Pokud je tento e-mail na termín přihlášený, poslali jsme na něj odkaz na přihlášku.", "info")
    else:
        flash("Zadejte platný e-mail, na který vám pošleme odkaz.", "error")
    return redirect(url_for(".register", term_id=term.id))


def _registration_or_404(token):
    registration = service.registration_for_token(token)
    if registration is None:
        abort(404)
    return registration


@bp.get("/prihlaska/<token>")
def manage(token):
    registration = _registration_or_404(token)
    return render_template(
        "registration/manage.html",
        registration=registration,
        term=registration.term,
        position=registration.waitlist_position(),
        cancel_form=CancelForm(),
        can_cancel=service.can_cancel(registration),
        token=token,
    )


@bp.post("/prihlaska/<token>/zrusit")
def cancel(token):
    registration = _registration_or_404(token)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(form.csrf_token.errors[0] if form.csrf_token.errors else "Zrušení se nepodařilo.", "error")
        return redirect(url_for(".manage", token=token))
    try:
        service.cancel(registration.id)
    except service.NotCancellable as exc:
        flash(exc.message, "error")
    else:
        flash("Přihláška je zrušená. Děkujeme, že jste uvolnili místo.", "success")
    return redirect(url_for(".manage", token=token))
