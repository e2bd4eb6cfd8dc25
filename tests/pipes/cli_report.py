"""
title: CLI Report
description: Returns, as JSON, what the CLI handed the pipe (messages, stream, ids).
"""

import json


class Pipe:
    def pipe(self, body: dict, __metadata__: dict | None = None, __chat_id__: str | None = None) -> str:
        metadata = __metadata__ or {}
        return json.dumps(
            {
                "stream": body.get("stream"),
                "messages": body.get("messages"),
                "metadata_chat_id": metadata.get("chat_id"),
                "metadata_extra": metadata.get("extra"),
                "chat_id": __chat_id__,
            },
            sort_keys=True,
        )
