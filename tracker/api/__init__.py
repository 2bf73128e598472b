"""The JSON API under /api/v1 for other government systems: personal tokens, the user's own permissions."""
