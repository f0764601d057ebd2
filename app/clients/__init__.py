"""Registered third-party apps (API clients): id, hashed secret, scopes, origins (issue 18, item 1)."""
