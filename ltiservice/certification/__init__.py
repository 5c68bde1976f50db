"""The certification jury: sessions, composition, sovereign decisions, minutes."""
