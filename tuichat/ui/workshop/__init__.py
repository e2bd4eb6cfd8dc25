"""The pipe workshop: the pipes screen (F7), the editor, a function's history, and the dialogs
they share, with every workflow (install, import, export, link, save) written once in
`workflows.py`. Screens compose widgets and route messages; the runtime judges files and
sources (`tuichat.runtime.library`, `tuichat.runtime.transfer`)."""
