"""Offline build and evaluation scripts for the locality index (not imported at runtime)."""
