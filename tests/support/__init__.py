"""Helpers shared by the test suites: the example world, forms, and readers of what the app
sent. Tests import them from here; conftest.py holds only fixtures."""
