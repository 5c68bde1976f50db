"""Pages people see inside the LMS."""
