"""Signing keys: generation, encryption at rest, the in-memory keyring and the JWKS."""
