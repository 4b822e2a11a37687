"""Read-only REST API under /api/v1 for other systems: bearer tokens, JSON answers, an OpenAPI 3 document."""
