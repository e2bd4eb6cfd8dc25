"""Sources a new function starts from (the pipes screen's "New", `tuichat pipes new`).

Each is a complete Open WebUI pipe that loads and answers as it is, so a new
function works before its author changes a line.
"""
