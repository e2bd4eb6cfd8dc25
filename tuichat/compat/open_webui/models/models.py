"""`open_webui.models.models`: `Models`, Open WebUI's workspace models.

tuichat has no workspace models (custom models over a base model, with their own
system prompt and parameters), only the models pipes list, so every lookup finds
nothing. Methods work awaited or called directly; see `open_webui.models.users`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tuichat.compat._awaitable import NOT_FOUND, AwaitableList, NotFound, SelfAwaitable
from tuichat.compat._names import module_getattr

__all__ = [
    "ModelForm",
    "ModelMeta",
    "ModelModel",
    "ModelParams",
    "ModelResponse",
    "Models",
    "ModelsTable",
]


class ModelParams(BaseModel):
    model_config = ConfigDict(extra="allow")


class ModelMeta(BaseModel):
    profile_image_url: str | None = "/static/favicon.png"
    description: str | None = None
    capabilities: dict[str, Any] | None = None

    model_config = ConfigDict(extra="allow")


class ModelModel(SelfAwaitable, BaseModel):
    id: str
    user_id: str
    base_model_id: str | None = None

    name: str
    params: ModelParams
    meta: ModelMeta

    access_control: dict[str, Any] | None = None

    is_active: bool = True
    updated_at: int  # epoch seconds
    created_at: int

    model_config = ConfigDict(from_attributes=True)


class ModelResponse(ModelModel):
    pass


class ModelForm(BaseModel):
    id: str
    base_model_id: str | None = None
    name: str
    meta: ModelMeta
    params: ModelParams
    access_control: dict[str, Any] | None = None
    is_active: bool = True


class ModelsTable:
    def get_model_by_id(self, id: str, db: object = None) -> ModelModel | NotFound:
        return NOT_FOUND

    def get_all_models(self, db: object = None) -> AwaitableList[ModelModel]:
        return AwaitableList()

    def get_models(self, db: object = None) -> AwaitableList[ModelModel]:
        return AwaitableList()

    def get_base_models(self, db: object = None) -> AwaitableList[ModelModel]:
        return AwaitableList()

    def get_models_by_user_id(
        self, user_id: str, permission: str = "write", db: object = None
    ) -> AwaitableList[ModelModel]:
        return AwaitableList()


Models = ModelsTable()

__getattr__ = module_getattr(__name__)
