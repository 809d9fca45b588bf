"""A queue worker with an HTTP health endpoint."""
