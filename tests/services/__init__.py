"""The use cases on the embedded default's real adapters: a SQLite file, the imaging sandbox,
in-memory or local blobs, and the workers; tests/unit runs them on fakes instead."""
