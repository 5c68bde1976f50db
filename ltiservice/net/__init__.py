"""Network access from the service to the outside."""
