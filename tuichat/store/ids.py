"""Function ids, following Open WebUI's rule: a Python identifier, stored lower-case.

Open WebUI rejects ids failing `str.isidentifier()` and lower-cases the rest, so an
id can never contain '.', and is safe as a module name and in URLs.
"""

from __future__ import annotations

import re

_RUNS_OF_UNDERSCORES = re.compile(r"_{2,}")
_FALLBACK_ID = "pipe"
_DIGIT_PREFIX = "pipe_"


class InvalidFunctionId(ValueError):
    """A function id Open WebUI would refuse."""


def validate_function_id(raw: str) -> str:
    """Return `raw` lower-cased, or raise InvalidFunctionId saying why not."""
    if not raw.isidentifier():
        raise InvalidFunctionId(
            f"Invalid function id {raw!r}: use only letters, digits and underscores, "
            f"not starting with a digit (Open WebUI's rule). "
            f"Try {function_id_from_filename(raw)!r}."
        )
    return raw.lower()


def function_id_from_filename(stem: str) -> str:
    """Turn any file name stem into a valid id, e.g. 'My-Pipe.v2' -> 'my_pipe_v2'."""
    chars = (c if _continues_identifier(c) else "_" for c in stem.lower())
    candidate = _RUNS_OF_UNDERSCORES.sub("_", "".join(chars)).strip("_")
    if not candidate:
        return _FALLBACK_ID
    if not candidate.isidentifier():
        # Only the first character can still be wrong: a digit (or another
        # character that may continue but not start an identifier).
        candidate = _DIGIT_PREFIX + candidate
    return validate_function_id(candidate)


def _continues_identifier(char: str) -> bool:
    # Identifier rules are Unicode-aware (é is fine, '-' is not); ask Python itself.
    return ("_" + char).isidentifier()
