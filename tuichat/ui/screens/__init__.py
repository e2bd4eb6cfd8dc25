"""Modal screens: the model picker, the dialogs that answer `__event_call__`, and small prompts.

Import from the modules (`tuichat.ui.screens.model_picker`, …); this package imports nothing, so
opening one screen never loads the others.
"""
