"""
title: CLI Imports Demo
version: 1.2.3
description: Stored with Open WebUI's import rewriting applied.
"""

try:
    from utils.misc import get_last_user_message
except ImportError:  # no Open WebUI here
    get_last_user_message = None


class Pipe:
    def pipe(self, body: dict) -> str:
        return "imports v1"
