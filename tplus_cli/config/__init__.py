"""Paths, environment variables, profiles, settings and the key store."""
