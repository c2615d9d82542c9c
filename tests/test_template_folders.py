"""Templates live beside their capability (trainings/<capability>/templates/<capability>/) and the few
shared ones in the app's templates/. Flask searches the app's folder, then each blueprint's in
registration order, and takes the first file of a name: a name in two folders would hide one of them,
and a folder no blueprint names would not be found at all."""
from .helpers import TEMPLATE_FOLDERS, template_files


def test_every_template_file_is_the_one_its_name_finds(app):
    wrong = []
    for path in template_files(".html", ".txt", ".css"):
        folder = next(folder for folder in TEMPLATE_FOLDERS if folder in path.parents)
        name = path.relative_to(folder).as_posix()
        try:
            _, found, _ = app.jinja_env.loader.get_source(app.jinja_env, name)
        except Exception as error:  # TemplateNotFound: no blueprint names its folder
            wrong.append(f"{name}: {type(error).__name__}")
            continue
        if found != str(path):
            wrong.append(f"{name}: {path} is hidden by {found}")
    assert wrong == []
    assert len(TEMPLATE_FOLDERS) > 1  # the capabilities' folders are found, not only the app's


def test_a_capability_s_templates_are_under_its_own_name():
    """trainings/terms/templates/terms/...: the first part of every name says whose it is."""
    for folder in TEMPLATE_FOLDERS[1:]:
        assert [child.name for child in folder.iterdir()] == [folder.parent.name]


def test_every_page_and_e_mail_template_is_compiled_before_the_first_request(app):
    """gunicorn's master compiles them all before forking its workers (config/gunicorn.conf.py),
    so no visitor waits for a compilation; a template that does not compile fails here, not there."""
    from trainings import compile_templates

    compiled = compile_templates(app)
    assert compiled == len(template_files(".html", ".txt"))
    assert {name for _, name in app.jinja_env.cache.keys()} >= {
        "base.html", "catalogue/index.html", "registration/mail/registration_confirmed.txt"}
