"""One pipe call as one ordered stream of steps: codec, channel, `__request__`, emitter, event calls, nested calls."""
