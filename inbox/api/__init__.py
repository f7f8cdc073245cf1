"""The REST API under /api/v1: one module per resource, thin routes over domain functions."""
