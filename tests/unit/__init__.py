"""Unit tests: the domain and pure logic, no bot process, no HTTP."""
