"""A bare Flask "hello world", served by the same gunicorn setup as the application,
so that the load benchmark can say how much of the machine's capacity the
application's own work takes."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
