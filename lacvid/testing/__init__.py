"""Generated test content with known answers (for tests and benchmarks; no real footage)."""
