"""Bluesky (AT Protocol): plain XRPC over ``beatdesk.core.http.HttpClient``, no SDK."""
