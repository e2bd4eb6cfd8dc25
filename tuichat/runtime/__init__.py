"""The pipe host: everything between a stored function and a reply, with no Textual in it.

    loading/     source → module and instance: frontmatter, requirements and installs, load errors
    invocation/  one call of a pipe as one ordered stream of steps: the SSE codec, the channel,
                 `__request__`, the event emitter and event calls
    reply/       what a chat shows: `Reply` (model), built from steps (builder), read as text
                 (present), reasoning split out of the text
    host.py      stored functions in, models and invocations out (`PipeHost`)
    library.py   adding, saving, versions, import/export of stored functions (`FunctionLibrary`)
    turn.py      one chat turn: the user message, the call, the reply saved as it streams
    services.py  store → host → library, opened once for the CLI and the TUI alike

Importing this package imports nothing else: the front ends import what they need, when
they need it (start-up time).
"""
