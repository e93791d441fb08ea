"""In-memory and in-process stand-ins for adapters, for tests that should not start them."""
