"""Test support: real databases, a real HTTP server for the app, a cookie-keeping client."""
