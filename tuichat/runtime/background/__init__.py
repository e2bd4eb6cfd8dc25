"""Open WebUI's background tasks: after a reply, the chat's own pipe is asked for follow-up
suggestions, and after a chat's first exchange for its title and tags (task calls with
`__task__` set; tuichat has no separate task model, so the chat's pipe answers them, as
Open WebUI's default task model setting does). Each task is a setting (`settings.py`)."""
