"""Long documents made off the request by the documents worker (`flask documents work`)."""
