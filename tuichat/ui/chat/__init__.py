"""The chat screen: chat list, conversation, activity pane and prompt.

    screen.py     composes the widgets, holds the chat's state (reactive) and routes messages
    replies.py    sending a message: one turn streamed into the conversation, event-call
                  dialogs, stop, regenerate, edit and resend, generated titles
    commands.py   what the user does to a chat: rename, delete, search, export, system
                  prompt, stream on/off, selecting and copying replies
    panes.py      which side panes show, by terminal size and the stored choices
    drafts.py     the prompt's text kept as each chat's draft, across switches and restarts
"""
