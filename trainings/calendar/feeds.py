"""Calendar feeds (iCalendar): all public terms, one workshop, one kraj, a person's own."""
from flask import Blueprint

bp = Blueprint("calendar", __name__)
