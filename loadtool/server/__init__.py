"""The bundled fixture server: deterministic httpbin-like endpoints and a seeded site."""
