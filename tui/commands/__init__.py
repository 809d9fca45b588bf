"""The CLI commands, one module per noun."""
