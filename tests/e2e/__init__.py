"""End-to-end tests: Voilà + headless Chromium (see conftest.py)."""
