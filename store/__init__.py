"""The data layer of projdeck: tables, engine, repositories and services.

Nothing here imports Textual: the app and the CLI reach the data through
``store.services`` only.
"""
