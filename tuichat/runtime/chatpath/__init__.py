"""Open WebUI's chat path around the pipe (its `chat_completion`): the request as the web
page posts it, filters (inlet, request, stream, outlet) in Open WebUI's order, and its
error rules. `request` is built in the app; `run` runs in the host process, where the
function code runs. The reference: tests/conformance/chat/README.md."""
