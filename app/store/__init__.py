"""The store port: durable keys and clients behind one small interface."""

from app.store.port import ClientRecord, KeyRecord, Store

__all__ = ["ClientRecord", "KeyRecord", "Store"]
