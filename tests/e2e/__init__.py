"""End-to-end tests: the real bot against the Bot API simulator over HTTP (marked e2e)."""
