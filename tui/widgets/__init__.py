"""Pieces the screens are built from."""
