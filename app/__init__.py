"""Titan: a service-to-service token issuer minting short-lived ES256 JWTs."""

__version__ = "0.1.0"
