"""Sign-up for a term and the private page of one registration."""
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import check_in, czech
from ..access import public
from ..certificates.rule import can_issue
from ..exports.download import certificate_download
from ..extensions import csrf, db
from ..forms import show_error
from ..models import Registration, Term
from ..places import regions_open_to, regions_with_orps
from ..security import limit_form_posts, private_page, unlisted
from ..timefmt import term_span
from . import handover, page_parts, service, switching
from .forms import CancelForm, HandoverConfirmForm, HandoverForm, RegistrationForm, ResendLinkForm, SwitchForm

# The package's own templates (<package>/templates/<package>/..., its e-mails among them), names
# namespaced by the folder so none shadows another's.
bp = Blueprint("registration", __name__, template_folder="templates")


def _public_term(term_id: int) -> Term:
    term = db.session.scalars(
        select(Term).options(joinedload(Term.offer), joinedload(Term.region)).where(Term.id == term_id)
    ).one_or_none()
    if term is None or not term.public:
        abort(404)
    return term


def _closed_term(signup_token: str) -> Term:
    """A closed term ("na klíč") by its private sign-up link; public terms have none."""
    term = None
    if signup_token and len(signup_token) <= 64:
        term = db.session.scalars(
            select(Term)
            .options(joinedload(Term.offer), joinedload(Term.region))
            .where(Term.signup_token == signup_token, Term.public.is_(False))
        ).one_or_none()
    if term is None:
        abort(404)
    return term


def _form_urls(term) -> dict:
    if term.public:
        return {"form_action": url_for(".register", term_id=term.id),
                "resend_action": url_for(".resend_link", term_id=term.id)}
    return {"form_action": url_for(".closed_term", signup_token=term.signup_token),
            "resend_action": url_for(".closed_term_resend_link", signup_token=term.signup_token)}


def _render_form(term, form, status=200):
    if term.restricted_region_id is not None or term.restricted_orp_id is not None:
        form.set_places(regions_open_to(term.restricted_region_id, term.restricted_orp_id))
    usage = service.seat_usage(term)
    return render_template("registration/form.html", term=term, form=form, usage=usage, **_form_urls(term)), status


@bp.route("/termin/<id:term_id>/prihlaska", methods=["GET", "POST"])
@public
@limit_form_posts
@csrf.exempt  # the form checks its own token, so an expired one re-shows her data with a Czech message
def register(term_id):
    return _register(term_id, lambda: _public_term(term_id))


@bp.route("/prihlaska-na-termin/<signup_token>", methods=["GET", "POST"])
@public
@limit_form_posts
@csrf.exempt  # as register
def closed_term(signup_token):
    term = _closed_term(signup_token)
    return unlisted(_register(term.id, lambda: term, signup_token))


def _register(term_id, load_term, signup_token=None):
    """The form, and the sign-up. A valid sign-up goes straight to the service, which
    locks the term and refuses one not in the catalogue without its link; the term is
    loaded for a page only (the form, or the form again with what went wrong).

    The answer to a sign-up is the same for every address: anyone can type anyone's, so it
    must not tell whether the address was already on the term (AlreadyRegistered: its owner
    is told by e-mail instead). It names neither the seat nor the queue position nor a private
    link, which a sign-up with an address already on the term could not show; the person
    finds all of it in the e-mail that the outbox sends within moments."""
    form = RegistrationForm()
    form.set_places(regions_with_orps())
    if not form.is_submitted():
        term = load_term()
        form.start_at(term)
        return _render_form(term, form)
    if not form.validate_on_submit():
        return _render_form(load_term(), form, 422)
    try:
        service.register(term_id, form.applicant(), signup_token=signup_token)
    except service.AlreadyRegistered:
        pass
    except service.TermNotFound:
        abort(404)
    except service.RegistrationError as exc:
        show_error(form, exc)
        return _render_form(load_term(), form, 409 if exc.field is None else 422)
    flash(f"Přihlášku jsme přijali. E-mail o ní posíláme na adresu {form.email.data.strip()}.", "success")
    return redirect(url_for(".sent", term_id=term_id) if signup_token is None
                    else url_for(".closed_term_sent", signup_token=signup_token))


@bp.get("/termin/<id:term_id>/prihlaska/odeslano")
@public
def sent(term_id):
    return _sent(_public_term(term_id))


@bp.get("/prihlaska-na-termin/<signup_token>/odeslano")
@public
def closed_term_sent(signup_token):
    return _sent(_closed_term(signup_token))


def _sent(term):
    """The page after a sign-up: the same for every sign-up (see _register)."""
    return private_page(render_template("registration/sent.html", term=term, resend_form=ResendLinkForm(),
                                        **_form_urls(term)))


@bp.post("/termin/<id:term_id>/odkaz")
@public
@limit_form_posts
def resend_link(term_id):
    return _resend_link(_public_term(term_id))


@bp.post("/prihlaska-na-termin/<signup_token>/odkaz")
@public
@limit_form_posts
def closed_term_resend_link(signup_token):
    return _resend_link(_closed_term(signup_token))


def _resend_link(term):
    form = ResendLinkForm()
    if form.validate_on_submit():
        service.resend_link(term.id, form.email.data)
        # The same answer either way, so the form does not tell who is registered.
        flash("Pokud je tento e-mail na termín přihlášený, poslali jsme na něj odkaz na přihlášku.", "info")
    else:
        flash("Zadejte platný e-mail, na který vám pošleme odkaz.", "error")
    return redirect(_form_urls(term)["form_action"])


def _registration_or_404(token):
    registration = service.registration_for_token(token)
    if registration is None:
        # Expired, ended or never valid: one page, which says how to get a new link.
        abort(make_response(render_template(
            "registration/link_gone.html", link_lifetime=service.in_days(service.LINK_LIFETIME_AFTER_TERM)), 404))
    return registration


@bp.get("/prihlaska/<token>")
@public
def manage(token):
    registration = _registration_or_404(token)
    return private_page(render_template(
        "registration/manage.html",
        registration=registration,
        term=registration.term,
        position=registration.waitlist_position(),
        waiting_reason=_waiting_reason(registration),
        cancel_form=CancelForm(),
        can_cancel=service.can_cancel(registration),
        can_switch=switching.can_switch(registration),
        pending_switches=service.pending_switches(registration),
        switch_from=service.pending_switch_seat(registration)
        if registration.state.value == "waitlisted" else None,
        pending_handover=handover.pending_handover(registration),
        token=token,
        **_after_cancelling(registration),
        **_attendance_context(registration),
    ))


def _waiting_reason(registration) -> str | None:
    reason = service.waitlist_reason(registration)
    if reason is None:
        return None
    return (f"{service.waitlist_reason_text(reason, registration.term.per_orp_limit)}. "
            f"{service.when_freed_text(reason)}, přesuneme vás automaticky a napíšeme vám e-mail.")


def _after_cancelling(registration) -> dict:
    """A cancelled registration: undo while it can be, else the way to sign up afresh."""
    if registration.state.value != "cancelled":
        return {}
    term = registration.term
    # Her page links to a fresh sign-up itself, so the refusal says only why.
    refusal = service.undo_refusal(registration, offer_fresh=False)
    return {
        "undo_until": service.undo_deadline(registration) if refusal is None else None,
        "undo_refused": refusal if term.state.value == "scheduled" else None,
        "signup_url": _form_urls(term)["form_action"] if term.takes_sign_ups() else None,
        # Given up for another term or to a colleague: she is told where the seat went, not only "zrušená".
        "moved_to": service.moved_to(registration),
        "handed_to": handover.completed_handover(registration),
    }


def _links(count: int) -> str:
    return czech.count_noun(count, *czech.LINKS)


def _button_pressed() -> bool:
    """A button of the registration's page, posted with the page's CSRF token; an expired page says so."""
    if CancelForm().validate_on_submit():
        return True
    flash("Platnost formuláře vypršela. Zkuste to prosím znovu.", "error")
    return False


def _button(token, action, success):
    """Do what a button of the registration's page asks, say how it went, and go back to the page.
    `success` is the message, or makes it from what `action` returned."""
    if _button_pressed():
        try:
            result = action()
        except service.RegistrationError as exc:
            flash(exc.message, "error")
        else:
            flash(success(result) if callable(success) else success, "success")
    return redirect(url_for(".manage", token=token))


@bp.post("/prihlaska/<token>/odkazy")
@public
def revoke_links(token):
    registration = _registration_or_404(token)
    return _button(token, lambda: service.revoke_other_links(registration, token),
                   lambda count: f"Ostatní odkazy na tuto přihlášku už neplatí (zneplatněno: {_links(count)}). "
                                 "Tento odkaz platí dál.")


@bp.get("/prihlaska/<token>/zrusit")
@public
def confirm_cancel(token):
    """One more step before the seat goes to someone else: the term named, a way back."""
    registration = _registration_or_404(token)
    if not service.can_cancel(registration):
        flash(service.NotCancellable.message, "error")
        return redirect(url_for(".manage", token=token))
    return private_page(render_template(
        "registration/cancel.html", registration=registration, term=registration.term, token=token,
        cancel_form=CancelForm(), undo_window=service.in_minutes(service.UNDO_WINDOW),
    ))


@bp.post("/prihlaska/<token>/zrusit")
@public
def cancel(token):
    registration = _registration_or_404(token)
    return _button(token, lambda: service.cancel(registration.id),
                   "Přihláška je zrušená. Děkujeme za uvolněné místo.")


@bp.post("/prihlaska/<token>/nova")
@public
@limit_form_posts
def open_moved(token):
    """From the link of a registration she moved to another term, to the one it became."""
    registration = _registration_or_404(token)
    if not _button_pressed():
        return redirect(url_for(".manage", token=token))
    try:
        new_token = service.open_moved_registration(registration)
    except service.NotMoved as exc:
        flash(exc.message, "error")
        return redirect(url_for(".manage", token=token))
    return redirect(url_for(".manage", token=new_token))


@bp.post("/prihlaska/<token>/vratit-zruseni")
@public
@limit_form_posts
def undo_cancel(token):
    registration = _registration_or_404(token)
    return _button(token, lambda: service.undo_cancel(registration.id),
                   "Zrušení je vrácené, přihláška je znovu potvrzená. Nové potvrzení jsme poslali na váš e-mail.")


# --- switching to another term of the workshop (switching.py) ----------------


@bp.route("/prihlaska/<token>/jiny-termin", methods=["GET", "POST"])
@public
@limit_form_posts
def switch_term(token):
    registration = _registration_or_404(token)
    if not switching.can_switch(registration):
        flash("Přesunout lze jen potvrzenou přihlášku na termín, který ještě nezačal.", "error")
        return redirect(url_for(".manage", token=token))
    targets = switching.switch_targets(registration)
    form = SwitchForm()
    form.term.choices = [(t.term.id, _target_label(t)) for t in targets if t.waiting is None]
    status = 200
    if form.validate_on_submit():
        try:
            outcome = switching.switch(registration.id, form.term.data)
        except service.RegistrationError as exc:
            form.term.errors.append(exc.message)
            status = 409
        else:
            if outcome.kind == switching.WAITING:
                flash(f"Jste na čekací listině nového termínu ({outcome.position}. místo) a své místo si ponecháváte. "
                      "Když se na novém termínu uvolní místo, přesuneme vás automaticky a napíšeme vám.", "info")
                return redirect(url_for(".manage", token=token))
            flash("Přihláška je přesunutá na nový termín a je potvrzená. Potvrzení jsme poslali na váš e-mail.",
                  "success")
            return redirect(url_for(".manage", token=outcome.token))
    elif form.is_submitted():
        status = 422
    return private_page(render_template(
        "registration/switch.html", registration=registration, term=registration.term, form=form, token=token,
        targets=targets,
    ), status)


def _target_label(target) -> str:
    span = term_span(target.term.starts_at, target.term.ends_at)
    if target.refusal is None:
        free = target.usage.free
        return f"{span}, {target.term.form.label.lower()} – volno: {czech.count_noun(free, 'místo', 'místa', 'míst')}"
    if target.refusal == service.ORP_LIMIT:
        return f"{span}, {target.term.form.label.lower()} – místa za vaši ORP obsazena, čekací listina"
    return f"{span}, {target.term.form.label.lower()} – obsazeno, čekací listina"


@bp.post("/prihlaska/<token>/zmena-terminu/<id:registration_id>/zrusit")
@public
def withdraw_switch(token, registration_id):
    """From her seat's page or from the waiting entry's own page."""
    registration = _registration_or_404(token)
    entry = db.session.get(Registration, registration_id)
    if entry is None or registration.id not in (entry.id, entry.replaces_registration_id):
        abort(404)
    return _button(token, lambda: switching.withdraw_switch(entry.id),
                   "Změna termínu je zrušená. Původní místo vám zůstává.")


# --- handing the seat over to a colleague (handover.py) -------------------------


@bp.route("/prihlaska/<token>/predat", methods=["GET", "POST"])
@public
@limit_form_posts
def hand_over(token):
    registration = _registration_or_404(token)
    if registration.state.value != "confirmed" or not service.can_cancel(registration):
        flash(handover.SEAT_GONE, "error")
        return redirect(url_for(".manage", token=token))
    form = HandoverForm()
    form.set_places(regions_with_orps())
    status = 200
    if form.validate_on_submit():
        try:
            offered = handover.offer(registration.id, form.applicant())
        except handover.HandoverRefused as exc:
            show_error(form, exc)
            status = 409
        else:
            flash(f"Nabídku místa jsme poslali na {offered.handover.email}. Místo zůstává vaše, dokud ji nepotvrdí.", "success")
            return redirect(url_for(".manage", token=token))
    elif form.is_submitted():
        status = 422
    else:
        form.start_at(registration.term)
    return private_page(render_template(
        "registration/hand_over.html", registration=registration, term=registration.term, form=form, token=token,
        handover_time=_hours(current_app.config["HANDOVER_TIME"]),
    ), status)


def _hours(delta) -> str:
    hours = delta.total_seconds() / 3600
    return czech.hours(int(hours) if hours == int(hours) else hours)


@bp.post("/prihlaska/<token>/predat/zrusit")
@public
def withdraw_handover(token):
    registration = _registration_or_404(token)
    if _button_pressed():
        if handover.withdraw(registration.id):
            flash("Nabídka místa je zrušená. Místo zůstává vaše.", "success")
        else:
            flash("Žádná nabídka místa už neplatí.", "info")
    return redirect(url_for(".manage", token=token))


@bp.route("/predani-mista/<token>", methods=["GET", "POST"])
@public
@limit_form_posts
def take_over(token):
    offered = handover.handover_for_token(token)
    if offered is None or not handover.is_open(offered):
        return private_page(render_template(
            "registration/handover_lapsed.html", handover=offered, message=handover.LAPSED), 410)
    form = HandoverConfirmForm(data={"name": offered.name})
    status = 200
    if form.validate_on_submit():
        try:
            outcome = handover.confirm(token, name=form.name.data)
        except handover.HandoverRefused as exc:
            show_error(form, exc)
            status = 409
        else:
            flash("Místo je vaše, přihláška je potvrzená. Potvrzení a odkaz na přihlášku jsme poslali na váš e-mail.",
                  "success")
            return redirect(url_for(".manage", token=outcome.token))
    elif form.is_submitted():
        status = 422
    return private_page(render_template(
        "registration/take_over.html", handover=offered, term=offered.registration.term, form=form,
    ), status)


# --- attendance: the door code and this registration's certificate ------------
# The page shows this one registration only: whoever typed an address into the
# sign-up form has proven nothing about it, so what spans the address (other
# registrations, hours, their certificates) is on "Moje vzdělávání" (trainings/person),
# behind a link e-mailed to that address.


def _attendance_context(registration) -> dict:
    """The check-in QR code while it is useful, and whether this registration earned a certificate."""
    url = check_in.check_in_url(registration)
    return {
        "online_attendance": registration.attends_online(),
        "check_in_code": registration.door_code() if url else None,
        "check_in_qr": check_in.qr_svg(url) if url else None,
        "certificate": can_issue(registration),
        **page_parts.parts_of(registration),  # her questionnaire (feedback)
    }


@bp.get("/prihlaska/<token>/osvedceni/<id:registration_id>.pdf")
@public
def certificate(token, registration_id):
    """The osvědčení of this registration (the id in the path is the link's own registration)."""
    registration = _registration_or_404(token)
    if registration.id != registration_id:
        abort(404)
    return certificate_download(registration)
