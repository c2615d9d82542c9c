"""Moje vzdělávání: the request form, the page behind an e-mailed link, and its actions."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, session, url_for

from ..access import public
from ..certificates.rule import can_issue
from ..exports.download import certificate_download
from ..registration.service import in_days
from ..security import limit_form_posts, private_page
from . import hours, service
from .forms import ActionForm, PageLinkForm

# The package's own templates (<package>/templates/<package>/..., its e-mails among them), names
# namespaced by the folder so none shadows another's.
bp = Blueprint("person", __name__, url_prefix="/moje-vzdelavani", template_folder="templates")

# The new calendar address rides in the (signed) session cookie from the POST
# that made it to the one page view that shows it; only its hash is stored.
_NEW_FEED = "person_new_feed"


def _link_or_404(token):
    link = service.link_for_token(token, service.PAGE)
    if link is None:
        # Expired, ended or never valid: the same page, which says how to get a new link.
        abort(make_response(render_template("person/link_gone.html", page_lifetime=in_days(service.PAGE_LIFETIME)),
                            404))
    return link


@bp.route("", methods=["GET", "POST"])
@public
@limit_form_posts
def request_link():
    form = PageLinkForm()
    if form.validate_on_submit():
        service.request_page_link(form.email.data)
        # The same answer whether or not the address is known, or was sent a link a minute ago.
        flash("Pokud u nás tento e-mail má nějaké přihlášky, poslali jsme na něj odkaz na stránku "
              f"Moje vzdělávání. Odkaz platí {in_days(service.PAGE_LIFETIME)}.", "info")
        return redirect(url_for(".request_link"))
    return (render_template("person/request.html", form=form, page_lifetime=in_days(service.PAGE_LIFETIME)),
            422 if form.is_submitted() else 200)


@bp.get("/<token>")
@public
def page(token):
    link = _link_or_404(token)
    new_feed = session.pop(_NEW_FEED, None)
    attended = hours.attended_registrations(link.email_normalized)
    return private_page(render_template(
        "person/page.html",
        token=token,
        link=link,
        overview=service.overview(link.email_normalized),
        can_open=service.can_open,
        can_issue=can_issue,
        hours_by_year=hours.hours_by_year(attended),
        yearly_hours=hours.YEARLY_HOURS,
        format_hours=hours.format_hours,
        new_feed=new_feed,
        form=ActionForm(),
    ))


def _checked_post(token):
    link = _link_or_404(token)
    if not ActionForm().validate_on_submit():
        flash("Platnost formuláře vypršela. Zkuste to prosím znovu.", "error")
        return link, redirect(url_for(".page", token=token))
    return link, None


@bp.post("/<token>/prihlaska/<id:registration_id>")
@public
@limit_form_posts
def open_registration(token, registration_id):
    """Her registration's own page, through a fresh registration link: the old ones sit in
    e-mails, and only their hashes are stored."""
    link, refused = _checked_post(token)
    if refused:
        return refused
    registration_token = service.open_registration(link.email_normalized, registration_id)
    if registration_token is None:
        abort(404)
    return redirect(url_for("registration.manage", token=registration_token))


@bp.post("/<token>/kalendar")
@public
@limit_form_posts
def new_feed(token):
    link, refused = _checked_post(token)
    if refused:
        return refused
    session[_NEW_FEED] = service.issue_feed_link(link.email_normalized)
    return redirect(url_for(".page", token=token) + "#kalendar")


@bp.post("/<token>/ukoncit")
@public
@limit_form_posts
def end_links(token):
    link, refused = _checked_post(token)
    if refused:
        return refused
    service.end_links(link.email_normalized)
    session.pop(_NEW_FEED, None)
    flash("Všechny vaše odkazy na Moje vzdělávání i adresy kalendáře jsou ukončené. "
          "Nový odkaz si můžete kdykoli nechat poslat.", "success")
    return redirect(url_for(".request_link"))


@bp.get("/<token>/osvedceni/<id:registration_id>.pdf")
@public
def certificate(token, registration_id):
    """An osvědčení for any workshop this address attended."""
    link = _link_or_404(token)
    registration = service.registration_of(link.email_normalized, registration_id)
    if registration is None:
        abort(404)
    return certificate_download(registration)
