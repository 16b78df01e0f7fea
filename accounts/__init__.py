"""API accounts: hashed API tokens with expiry and IP allowlists, revoked at once everywhere."""
