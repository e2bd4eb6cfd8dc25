"""
title: OpenAI (encrypted API key)
author: tuichat-tests
version: 1.0.3
license: Apache License 2.0
description: Chat with an OpenAI-compatible API. The API key valve is stored encrypted with a key derived from WEBUI_SECRET_KEY.
features:
  - Encrypted storage of the API key valve
  - Streaming and non-streaming responses
requirements: requests
"""

import base64
import hashlib
import hmac
import os
import secrets
from typing import Any, Iterator, Optional, Union

import requests
from pydantic import BaseModel, Field, GetCoreSchemaHandler
from pydantic_core import core_schema


class EncryptedStr(str):
    """A str that encrypts itself when validated and decrypts on demand.

    Scheme (stdlib only): SHA-256 counter-mode keystream XORed with the text,
    an HMAC-SHA256 tag, all base64 with an "encrypted:" prefix. Without a
    WEBUI_SECRET_KEY nothing is encrypted.
    """

    PREFIX = "encrypted:"

    @classmethod
    def _get_encryption_key(cls) -> Optional[bytes]:
        secret = os.getenv("WEBUI_SECRET_KEY")
        if not secret:
            return None
        return hashlib.sha256(secret.encode()).digest()

    @staticmethod
    def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < length:
            out += hashlib.sha256(key + nonce + counter.to_bytes(8, "big")).digest()
            counter += 1
        return out[:length]

    @classmethod
    def encrypt(cls, value: str) -> str:
        if not value or value.startswith(cls.PREFIX):
            return value
        key = cls._get_encryption_key()
        if not key:
            return value
        nonce = secrets.token_bytes(16)
        data = value.encode()
        cipher = bytes(a ^ b for a, b in zip(data, cls._keystream(key, nonce, len(data))))
        tag = hmac.new(key, nonce + cipher, hashlib.sha256).digest()[:16]
        return cls.PREFIX + base64.urlsafe_b64encode(nonce + cipher + tag).decode()

    @classmethod
    def decrypt(cls, value: str) -> str:
        if not value or not value.startswith(cls.PREFIX):
            return value
        key = cls._get_encryption_key()
        if not key:
            return value[len(cls.PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(value[len(cls.PREFIX) :].encode())
            nonce, cipher, tag = raw[:16], raw[16:-16], raw[-16:]
            expected = hmac.new(key, nonce + cipher, hashlib.sha256).digest()[:16]
            if not hmac.compare_digest(tag, expected):
                return value
            plain = bytes(a ^ b for a, b in zip(cipher, cls._keystream(key, nonce, len(cipher))))
            return plain.decode()
        except Exception:
            return value

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source_type: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.union_schema(
            [
                core_schema.is_instance_schema(cls),
                core_schema.chain_schema(
                    [
                        core_schema.str_schema(),
                        core_schema.no_info_plain_validator_function(
                            lambda value: cls(cls.encrypt(value) if value else value)
                        ),
                    ]
                ),
            ],
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda instance: str(instance)
            ),
        )

    def get_decrypted(self) -> str:
        return self.decrypt(self)


class Pipe:
    class Valves(BaseModel):
        API_KEY: EncryptedStr = Field(
            default=os.getenv("OPENAI_API_KEY", ""),
            description="API key (stored encrypted when WEBUI_SECRET_KEY is set).",
        )
        BASE_URL: str = Field(
            default=os.getenv("OPENAI_API_BASE_URL", "https://api.openai.com/v1"),
            description="OpenAI-compatible base URL.",
        )
        MODEL: str = Field(default="gpt-4.1", description="Model to use.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> Union[str, dict, Iterator]:
        api_key = self.valves.API_KEY.get_decrypted()
        if not api_key:
            return "Error: API_KEY is not set."
        headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
        }
        payload = {**body, "model": self.valves.MODEL}
        try:
            r = requests.post(
                f"{self.valves.BASE_URL}/chat/completions",
                json=payload,
                headers=headers,
                stream=bool(body.get("stream")),
                timeout=30,
            )
            r.raise_for_status()
            if body.get("stream"):
                return r.iter_lines()
            return r.json()
        except Exception as e:
            return f"Error: {e}"
