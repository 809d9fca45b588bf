"""The one door into the store: one async function per user action, each
one transaction that also writes its audit row."""
