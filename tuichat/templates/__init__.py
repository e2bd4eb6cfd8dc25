"""Sources a new function starts from (the pipes screen's "New", `tuichat pipes new`).

Each is a complete Open WebUI pipe (or `class Tools` module: tool.py) that loads and works as
it is, so a new function works before its author changes a line.
"""
