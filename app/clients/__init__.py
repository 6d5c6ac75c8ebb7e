"""Calling services: the client registry, secrets, authentication and per-client policy."""
