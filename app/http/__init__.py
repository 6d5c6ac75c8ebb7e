"""The HTTP face of Titan: controllers, msgspec schemas, credentials parsing and error mapping."""
