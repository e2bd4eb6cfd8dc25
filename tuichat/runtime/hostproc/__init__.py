"""The pipe host process: every line of function code runs there, never in the app.

One child process per tuichat process, like an Open WebUI server: all functions are
loaded there, share `__request__.app.state` and the `open_webui` stand-ins, and sync
pipes run on its event loop as Open WebUI runs them. A pipe that crashes, hangs, floods
or prints takes down or garbles only this process; the app restarts it.

    wire.py      frames (length-prefixed JSON, never pickle) and how steps and errors travel
    rpc.py       one connection, requests both ways, step frames to their call
    server.py    the host's side: the engine serving the app's requests
    guard.py     what the host sets up first: dying with the app, a memory limit
    capture.py   what a pipe prints and logs, captured per call as log steps
    process.py   the app's handle on the process: start, output tail, how it died
    client.py    the app's side of one call (`RemoteInvocation`)
    __main__.py  `python -m tuichat.runtime.hostproc FD DB SESSION`
"""
