"""Mastodon (and Mastodon-API-compatible servers): plain REST through the one HTTP client.

The registry imports ``connector:MastodonConnector`` lazily; nothing is imported here.
"""
