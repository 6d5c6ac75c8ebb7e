"""Signers: the Signer protocol and its joserfc-backed adapters (ES256 default, RS256, EdDSA)."""

from app.signing.jose import JoseSigner, display_name
from app.signing.port import Signer, SigningKey

__all__ = ["JoseSigner", "Signer", "SigningKey", "display_name"]
