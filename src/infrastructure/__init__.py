"""Adapters: persistence, security, notifiers, settings."""
