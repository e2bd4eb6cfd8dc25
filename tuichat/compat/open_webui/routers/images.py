"""`open_webui.routers.images`: the image generation routes.

tuichat has none of this; the names import so a pipe that uses them only on some
paths still loads, and any use raises NotProvidedError (see tuichat.compat._unavailable).
"""

from tuichat.compat._names import module_getattr
from tuichat.compat._unavailable import unavailable

__all__ = ["upload_image", "get_image_data", "load_b64_image_data", "image_generations"]  # noqa: F822 (made below, by unavailable())

globals().update(unavailable("open_webui.routers.images", *__all__))

__getattr__ = module_getattr(__name__)
