"""Tasks: what to extract, how to prompt for it and how to score it.

``registry`` resolves a task by name or directory; ``filetask`` reads a task defined by files
alone; ``cantos`` and ``citations`` are the built-in tasks (pyproject.toml registers both).
"""
