"""Staff login, logout and setting a password from an e-mailed link."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..forms import CzechForm
from ..security import limit_login_posts
from . import accounts
from .forms import LoginForm, SetPasswordForm

bp = Blueprint("auth", __name__, url_prefix="/sprava")


def _safe_next(target: str | None) -> str:
    """Only paths on this site, so a crafted link cannot send staff elsewhere after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("staff.dashboard")


@bp.route("/prihlaseni", methods=["GET", "POST"])
@limit_login_posts
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session id after login
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        # The same message whether the e-mail exists or not.
        form.form_errors.append("Nesprávný e-mail nebo heslo.")
    status = 422 if form.is_submitted() else 200
    return render_template("staff/login.html", form=form), status


@bp.post("/odhlaseni")
def logout():
    if CzechForm().validate_on_submit():
        logout_user()
        session.clear()
        flash("Byli jste odhlášeni.", "info")
    return redirect(url_for("catalogue.index"))


@bp.route("/heslo/<token>", methods=["GET", "POST"])
def set_password(token):
    user_token = accounts.user_for_password_token(token)
    if user_token is None:
        abort(404)
    form = SetPasswordForm()
    if form.validate_on_submit():
        accounts.use_password_token(user_token, form.password.data)
        flash("Heslo je nastavené. Přihlaste se jím.", "success")
        return redirect(url_for(".login"))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/set_password.html", form=form, user=user_token.user), status
