"""After the workshop: one e-mail with the osvědčení and a short anonymous questionnaire, and its results for staff."""
