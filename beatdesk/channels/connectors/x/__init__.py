"""X (formerly Twitter) over the X API v2, OAuth 2.0 with PKCE (see ``connector``)."""
