"""The public verification page of an osvědčení, where its QR code leads, and a form to type the code."""
from flask import Blueprint, redirect, render_template, request, url_for

from . import service
from ..access import public
from ..security import unlisted
from .forms import CodeForm

# The package's own templates (<package>/templates/<package>/...), names namespaced by the folder
# so none shadows another's.
bp = Blueprint("certificates", __name__, url_prefix="/overeni-osvedceni", template_folder="templates")


@bp.get("")
@public
def lookup():
    form = CodeForm(formdata=request.args if "kod" in request.args else None)
    if "kod" in request.args:
        if form.validate():
            return redirect(url_for(".verify", code=service.normalise_code(form.kod.data)))
        return unlisted(render_template("certificates/lookup.html", form=form), 422)
    return unlisted(render_template("certificates/lookup.html", form=form))


@bp.get("/<code>")
@public
def verify(code):
    if service.normalise_code(code) not in (None, code):
        # A typed "abcd-efgh-jkmn" goes to the one address of that certificate.
        return redirect(url_for(".verify", code=service.normalise_code(code)))
    result = service.verify(code)
    status = 404 if result.status == service.Status.UNKNOWN else 200
    return unlisted(render_template("certificates/result.html", result=result, Status=service.Status,
                                     form=CodeForm(formdata=None)), status)
