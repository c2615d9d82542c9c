"""Osvědčení anyone can verify: a random code per certificate and a public page that says whether it holds."""
