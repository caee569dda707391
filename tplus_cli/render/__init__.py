"""Presentation only: models in, text out. No network."""
