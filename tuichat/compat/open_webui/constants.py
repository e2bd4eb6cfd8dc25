"""`open_webui.constants`: task names and error texts, as Open WebUI 0.12 has them.

Members are strings that print as their text, as Open WebUI's `(str, Enum)` classes
with their `__str__` override do: `__task__ == TASKS.TITLE_GENERATION` and
`f"{TASKS.TITLE_GENERATION}"` both work. A lambda in an Enum body is a method, not
a member: `ERROR_MESSAGES.DEFAULT("boom")` calls it.
"""

from __future__ import annotations

from enum import StrEnum

from tuichat.compat._names import module_getattr

__all__ = ["ERROR_MESSAGES", "MESSAGES", "TASKS", "WEBHOOK_MESSAGES"]


class MESSAGES(StrEnum):
    DEFAULT = lambda msg="": f"{msg if msg else ''}"  # noqa: E731
    MODEL_ADDED = lambda model="": f"The model '{model}' has been added successfully."  # noqa: E731
    MODEL_DELETED = lambda model="": f"The model '{model}' has been deleted successfully."  # noqa: E731


class WEBHOOK_MESSAGES(StrEnum):
    DEFAULT = lambda msg="": f"{msg if msg else ''}"  # noqa: E731
    USER_SIGNUP = lambda username="": (  # noqa: E731
        f"New user signed up: {username}" if username else "New user signed up"
    )


class ERROR_MESSAGES(StrEnum):
    DEFAULT = lambda err="": (  # noqa: E731
        "Something went wrong :/" if err == "" else f"[ERROR: {err}]"
    )
    ENV_VAR_NOT_FOUND = "Required environment variable not found. Terminating now."
    UNAUTHORIZED = "401 Unauthorized"
    ACCESS_PROHIBITED = (
        "You do not have permission to access this resource. Please contact your "
        "administrator for assistance."
    )
    ACTION_PROHIBITED = "The requested action has been restricted as a security measure."
    NOT_FOUND = "We could not find what you're looking for :/"
    USER_NOT_FOUND = "We could not find what you're looking for :/"
    API_KEY_NOT_FOUND = (
        "Oops! It looks like there's a hiccup. The API key is missing. Please make sure "
        "to provide a valid API key to access this feature."
    )
    INVALID_TOKEN = "Your session has expired or the token is invalid. Please sign in again."
    INVALID_URL = "Oops! The URL you provided is invalid. Please double-check and try again."
    MALICIOUS = "Unusual activities detected, please try again in a few minutes."
    RATE_LIMIT_EXCEEDED = "API rate limit exceeded"
    FILE_NOT_SENT = "FILE_NOT_SENT"
    FILE_NOT_SUPPORTED = (
        "Oops! It seems like the file format you're trying to upload is not supported. "
        "Please upload a file with a supported format and try again."
    )
    FILE_NOT_PROCESSED = (
        "Extracted content is not available for this file. Please ensure that the file "
        "is processed before proceeding."
    )
    EMPTY_CONTENT = (
        "The content provided is empty. Please ensure that there is text or data "
        "present before proceeding."
    )
    DUPLICATE_CONTENT = "Duplicate content detected. Please provide unique content to proceed."
    OLLAMA_NOT_FOUND = "WebUI could not connect to Ollama"
    INCORRECT_FORMAT = lambda err="": f"Invalid format. Please use the correct format{err}"  # noqa: E731
    MODEL_NOT_FOUND = lambda name="": f"Model '{name}' was not found"  # noqa: E731
    OPENAI_NOT_FOUND = lambda name="": "OpenAI API was not found"  # noqa: E731
    WEB_SEARCH_ERROR = lambda err="": (  # noqa: E731
        f"{err if err else 'Oops! Something went wrong while searching the web.'}"
    )
    FILE_TOO_LARGE = lambda size="": (  # noqa: E731
        "Oops! The file you're trying to upload is too large. Please upload a file "
        f"that is less than {size}."
    )


class TASKS(StrEnum):
    """The `__task__` values Open WebUI sends pipes (spec §10.3)."""

    DEFAULT = lambda task="": f"{task if task else 'generation'}"  # noqa: E731
    TITLE_GENERATION = "title_generation"
    FOLLOW_UP_GENERATION = "follow_up_generation"
    TAGS_GENERATION = "tags_generation"
    EMOJI_GENERATION = "emoji_generation"
    QUERY_GENERATION = "query_generation"
    IMAGE_PROMPT_GENERATION = "image_prompt_generation"
    AUTOCOMPLETE_GENERATION = "autocomplete_generation"
    FUNCTION_CALLING = "function_calling"
    MOA_RESPONSE_GENERATION = "moa_response_generation"


__getattr__ = module_getattr(__name__)
