"""Example pipes that tuichat seeds into a new user's store.

Each module here is a complete, standalone Open WebUI pipe function (a module
defining ``class Pipe``); the file stem is its function id. They run unchanged in
Open WebUI; all but ``local`` use only the standard library and pydantic and need no network:

* ``echo``: a sync streaming pipe with Valves and UserValves.
* ``manifold``: one function offering several models through ``pipes()``.
* ``events``: every ``__event_emitter__`` event type.
* ``ask``: dialogs through ``__event_call__`` (confirm, text, password, select).
* ``markdown``: an LLM-like Markdown answer with a ``<think>`` block.
* ``local``: a manifold of the models of a local OpenAI-compatible server (Ollama,
  llama.cpp, LM Studio, vLLM), through httpx (which Open WebUI also ships).
"""
