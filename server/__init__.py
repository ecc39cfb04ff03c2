"""Tandem application layer: settings, storage, auth, HTTP and websocket endpoints, CLI."""
