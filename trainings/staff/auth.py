"""The way into the back office: password, second factor, logout, forgotten password,
setting a password from an e-mailed link, and the second-factor settings of one's account.

The rules are in accounts.py (passwords, links), sessions.py (server-side sessions)
and second_factor.py (TOTP, recovery codes); these views only parse and route.
"""
from urllib.parse import urlsplit

from babel.dates import format_timedelta
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from ..access import public, requires
from ..extensions import limiter
from ..forms import CzechForm, show_error
from ..models import StaffRole
from ..people import accounts, second_factor, sessions
from ..security import limit_form_posts, limit_login_posts
from .forms import AppCodeForm, ForgotPasswordForm, LoginForm, SecondFactorForm, SetPasswordForm

bp = Blueprint("auth", __name__, url_prefix="/sprava")

# Wrong codes per account, whatever address they come from: six digits are few, and
# someone who has the password could otherwise try them from many addresses.
WRONG_CODES_PER_ACCOUNT = "10 per 10 minutes;30 per day"


def _safe_next(target: str | None) -> str:
    """Only paths on this site, so a crafted link cannot send staff elsewhere after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("staff.dashboard")


def _next_arg() -> dict:
    target = request.args.get("next")
    return {"next": target} if target else {}


def _account_key() -> str:
    row = sessions.current()
    return f"second-factor:{row.user_id}" if row is not None else f"second-factor:{request.remote_addr}"


limit_wrong_codes = limiter.limit(
    lambda: WRONG_CODES_PER_ACCOUNT, key_func=_account_key, methods=["POST"],
    deduct_when=lambda response: response.status_code == 422,
)


def _to_second_factor():
    """The code, or for someone who must have one and has not set it up yet, the setup."""
    row = sessions.pending()
    endpoint = ".second_factor_step" if second_factor.enrolled(row.user) else ".enrol"
    return redirect(url_for(endpoint, **_next_arg()))


def _secret_page(body: str, status: int = 200):
    """A page with the TOTP secret or recovery codes: no browser or proxy may keep a copy."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _finish_login(row) -> None:
    """The session counts from here on: Flask-Login gets the user, the row decides (sessions.load_user)."""
    login_user(row.user)


@bp.route("/prihlaseni", methods=["GET", "POST"])
@public
@limit_login_posts
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET" and sessions.pending() is not None:
        # A page asked for a login, but this browser is between password and code.
        return _to_second_factor()
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.LoginLocked as locked:
            form.form_errors.append(locked.message)
            response = make_response(render_template("staff/login.html", form=form), 429)
            response.headers["Retry-After"] = str(locked.retry_after)
            return response
        if user is not None:
            row = sessions.start(user)
            if sessions.second_factor_required(user):
                return _to_second_factor()
            _finish_login(row)
            return redirect(_safe_next(request.args.get("next")))
        # The same message whether the e-mail exists or not.
        form.form_errors.append("Nesprávný e-mail nebo heslo.")
    status = 422 if form.is_submitted() else 200
    return render_template("staff/login.html", form=form), status


@bp.post("/odhlaseni")
@public
def logout():
    if CzechForm().validate_on_submit():
        # Ends the row, so every copy of this cookie is out too, not just this browser.
        sessions.end(sessions.current())
        logout_user()
        flash("Odhlášení proběhlo.", "info")
    return redirect(url_for("catalogue.index"))


@bp.route("/overeni", methods=["GET", "POST"])
@public
@limit_login_posts
@limit_wrong_codes
def second_factor_step():
    """After the password, for someone with TOTP switched on."""
    row = sessions.pending()
    if row is None:
        return _not_pending()
    if not second_factor.enrolled(row.user):
        return redirect(url_for(".enrol", **_next_arg()))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            used = second_factor.verify(row.user, form.code.data)
        except second_factor.SecondFactorError as exc:
            show_error(form, exc)
        else:
            sessions.pass_second_factor(row)
            _finish_login(row)
            if used == "recovery":
                left = second_factor.unused_recovery_codes(row.user)
                flash(f"Záložní kód je použitý. Zbývajících záložních kódů: {left}. Nové si vytvoříte "
                      "na stránce Dvoufázové ověření.", "info")
            return redirect(_safe_next(request.args.get("next")))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/second_factor.html", form=form), status


def _not_pending():
    """The second-factor pages without a session waiting for them: signed-in staff go on,
    anyone else (an ended or timed-out session too) starts at the login."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    return redirect(url_for(".login", **_next_arg()))


@bp.route("/overeni/nastaveni", methods=["GET", "POST"])
@public
@limit_login_posts
@limit_wrong_codes
def enrol():
    """Setting up TOTP: required before anything else for administrators and coordinators
    (a session that has passed only the password), optional for the others (signed in)."""
    row = sessions.current()
    if row is None:
        return redirect(url_for(".login", **_next_arg()))
    user = row.user
    if second_factor.enrolled(user):
        return redirect(url_for(".second_factor_step", **_next_arg()) if not sessions.is_complete(row)
                        else url_for(".account"))
    signed_in = sessions.is_complete(row)
    form = AppCodeForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_enrolment(user, form.code.data)
        except second_factor.SecondFactorError as exc:
            show_error(form, exc)
        else:
            # The code was just given in this session: it stays signed in (or now is) under
            # the new rule that this person needs one.
            sessions.pass_second_factor(row)
            if not signed_in:
                _finish_login(row)
            # Shown in this answer only: the codes are nowhere else in readable form.
            return _secret_page(render_template("staff/recovery_codes.html", codes=codes, enrolled_now=True,
                                                next_url=_safe_next(request.args.get("next"))))
    secret = second_factor.pending_secret(user)
    status = 422 if form.is_submitted() else 200
    return _secret_page(render_template(
        "staff/second_factor_setup.html", form=form, pending=not signed_in,
        mandatory=user.role in sessions.SECOND_FACTOR_ROLES,
        email=user.email, secret_groups=second_factor.grouped(secret),
        qr=second_factor.qr_svg(second_factor.provisioning_uri(user, secret)),
    ), status)


def _account_page(renew_form=None, off_form=None, status=200):
    user = current_user
    return render_template(
        "staff/account_second_factor.html", enrolled=second_factor.enrolled(user),
        required=user.role in sessions.SECOND_FACTOR_ROLES, left=second_factor.unused_recovery_codes(user),
        renew_form=renew_form or AppCodeForm(prefix="kody", formdata=None),
        off_form=off_form or SecondFactorForm(prefix="vypnout", formdata=None),
    ), status


@bp.get("/ucet/dvoufazove-overeni")
@requires(*StaffRole)
def account():
    return _account_page()


@bp.post("/ucet/dvoufazove-overeni/nove-kody")
@requires(*StaffRole)
@limit_wrong_codes
def renew_codes():
    form = AppCodeForm(prefix="kody")
    if form.validate_on_submit():
        try:
            codes = second_factor.regenerate_recovery_codes(current_user._get_current_object(), form.code.data)
        except second_factor.SecondFactorError as exc:
            show_error(form, exc)
        else:
            return _secret_page(render_template("staff/recovery_codes.html", codes=codes, enrolled_now=False,
                                                next_url=url_for(".account")))
    return _account_page(renew_form=form, status=422)


@bp.post("/ucet/dvoufazove-overeni/vypnout")
@requires(*StaffRole)
@limit_wrong_codes
def disable():
    form = SecondFactorForm(prefix="vypnout")
    if form.validate_on_submit():
        try:
            must_have_it = second_factor.disable(current_user._get_current_object(), form.code.data)
        except second_factor.SecondFactorError as exc:
            show_error(form, exc)
        else:
            if must_have_it:
                return redirect(url_for(".enrol"))
            flash("Dvoufázové ověření je vypnuté.", "success")
            return redirect(url_for(".account"))
    return _account_page(off_form=form, status=422)


@bp.route("/zapomenute-heslo", methods=["GET", "POST"])
@public
@limit_form_posts
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        # The same page for every address: whether an account exists must not show.
        return render_template("staff/forgot_password.html", form=form, sent=True,
                               lifetime=format_timedelta(accounts.PASSWORD_RESET_LIFETIME, locale="cs"))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/forgot_password.html", form=form, sent=False), status


@bp.route("/heslo/<token>", methods=["GET", "POST"])
@public
def set_password(token):
    user_token = accounts.user_for_password_token(token)
    if user_token is None:
        abort(404)
    form = SetPasswordForm()
    if form.validate_on_submit():
        # Ends every session of the person, so a stolen cookie is worth nothing after a reset.
        accounts.use_password_token(user_token, form.password.data)
        flash("Heslo je nastavené. Přihlaste se jím.", "success")
        return redirect(url_for(".login"))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/set_password.html", form=form, user=user_token.user), status
