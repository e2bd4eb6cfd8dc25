"""Turning a pipe's ModuleNotFoundError into "install distribution X".

Pipes often import packages their frontmatter never declares. The import name and the
PyPI distribution name differ often enough (PIL/pillow, yaml/pyyaml) that a plain
"pip install <module>" hint would be wrong or, worse, install an unrelated package.
"""

from __future__ import annotations

import re
import shutil
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MissingModule", "diagnose", "distribution_for_module"]

# Import name -> PyPI distribution, for names where the usual "top level, '_' -> '-'"
# guess is wrong or ambiguous. Dotted keys win over shorter ones (longest prefix first).
_DISTRIBUTIONS: dict[str, str] = {
    "PIL": "pillow",
    "google.genai": "google-genai",
    "google.generativeai": "google-generativeai",
    "google.ai.generativelanguage": "google-ai-generativelanguage",
    "google.protobuf": "protobuf",
    "google.auth": "google-auth",
    "google.oauth2": "google-auth",
    "google.api_core": "google-api-core",
    "google.cloud.aiplatform": "google-cloud-aiplatform",
    "googleapiclient": "google-api-python-client",
    "vertexai": "google-cloud-aiplatform",
    "dotenv": "python-dotenv",
    "yaml": "pyyaml",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "fitz": "pymupdf",
    "pymupdf": "pymupdf",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "dateutil": "python-dateutil",
    "jwt": "PyJWT",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "OpenSSL": "pyOpenSSL",
    "serial": "pyserial",
    "git": "GitPython",
    "jose": "python-jose",
    "magic": "python-magic",
    "telegram": "python-telegram-bot",
    "attr": "attrs",
    "websocket": "websocket-client",
    "duckduckgo_search": "duckduckgo-search",
    "ddgs": "ddgs",
    "mistralai": "mistralai",
    "tiktoken": "tiktoken",
    "openai": "openai",
    "anthropic": "anthropic",
    "groq": "groq",
    "cohere": "cohere",
    "boto3": "boto3",
    "botocore": "botocore",
    "ollama": "ollama",
    "litellm": "litellm",
    "langchain": "langchain",
    "langchain_core": "langchain-core",
    "langchain_community": "langchain-community",
    "langchain_openai": "langchain-openai",
    "huggingface_hub": "huggingface-hub",
    "sentence_transformers": "sentence-transformers",
    "azure.identity": "azure-identity",
    "azure.storage.blob": "azure-storage-blob",
    "azure.ai.inference": "azure-ai-inference",
    "azure.core": "azure-core",
    "msal": "msal",
    "zmq": "pyzmq",
    "usb": "pyusb",
    "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "lxml": "lxml",
    "markdown": "Markdown",
    "multipart": "python-multipart",
    "socks": "PySocks",
    "slugify": "python-slugify",
    "Levenshtein": "python-Levenshtein",
    "win32api": "pywin32",
    "win32com": "pywin32",
    "wx": "wxPython",
    "gi": "PyGObject",
    "pkg_resources": "setuptools",
    "setuptools": "setuptools",
    "distutils": "setuptools",
    "playwright": "playwright",
    "pypdf": "pypdf",
    "PyPDF2": "PyPDF2",
    "youtube_transcript_api": "youtube-transcript-api",
    "faiss": "faiss-cpu",
    "tavily": "tavily-python",
    "exa_py": "exa-py",
    "pinecone": "pinecone",
    "qdrant_client": "qdrant-client",
    "chromadb": "chromadb",
    "ldap3": "ldap3",
    "Bio": "biopython",
    "igraph": "igraph",
    "nacl": "PyNaCl",
    "dns": "dnspython",
    "grpc": "grpcio",
    "editor": "python-editor",
    "speech_recognition": "SpeechRecognition",
    "pydub": "pydub",
    "whisper": "openai-whisper",
    "tree_sitter": "tree-sitter",
}

# Namespace packages: the top-level name alone says nothing about which distribution is
# wanted, and `google` on PyPI is an unrelated search scraper.
_NAMESPACES = {"google", "google.cloud", "azure", "azure.ai", "azure.storage", "azure.mgmt"}

# tuichat's compatibility layer provides these; pip must never be suggested for them.
_HOST_PACKAGES = {"open_webui"}

_NO_MODULE = re.compile(r"No module named '([^']+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)'")
_IMPORT_LINE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+\(?([\w\s,]+)|import\s+([\w.\s,]+))")


@dataclass(frozen=True)
class MissingModule:
    module: str  # the dotted name Python could not find (or the more specific one the import line names)
    distribution: str | None  # None when no distribution can be named with any confidence
    message: str

    @property
    def pip_args(self) -> list[str]:
        """Arguments after `pip install`, or [] when nothing should be installed."""
        return [self.distribution] if self.distribution else []


def distribution_for_module(module: str) -> str | None:
    """The PyPI distribution that provides the import name `module`, or None if not pip's job."""
    module = module.strip().lstrip(".")
    if not module:
        return None
    parts = module.split(".")
    top = parts[0]
    if top in _HOST_PACKAGES:
        return None
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in _DISTRIBUTIONS:
            return _DISTRIBUTIONS[prefix]
    if top in sys.stdlib_module_names:
        return None  # missing stdlib pieces (tkinter, _ssl) come from the OS or the Python build
    # Namespace conventions: google.cloud.storage -> google-cloud-storage, azure.identity -> azure-identity.
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in _NAMESPACES:
            return "-".join(parts[: end + 1]).replace("_", "-") if end < len(parts) else None
    return top.replace("_", "-")


def diagnose(exc: BaseException, *, file: str | None = None) -> MissingModule | None:
    """The missing module behind `exc` (or its causes), or None when it is not a missing module.

    Also None for Open WebUI's own modules (`open_webui.*`): providing those is the
    compatibility layer's job, not pip's. `file` fills the pipe path in the hint.
    """
    found = _find_module_error(exc, set())
    if found is None:
        return None
    error, name = found
    if name.split(".")[0] in _HOST_PACKAGES:
        return None
    # `import google.genai` without any google package reports just 'google'; the source
    # line of the import usually names the specific module.
    if distribution_for_module(name) is None or name in _NAMESPACES:
        name = _refine_from_source(error, name)
    distribution = distribution_for_module(name)
    return MissingModule(name, distribution, _message(name, distribution, file))


def _find_module_error(exc: BaseException, seen: set[int]) -> tuple[ImportError, str] | None:
    if id(exc) in seen:
        return None
    seen.add(id(exc))
    if isinstance(exc, ModuleNotFoundError):
        name = exc.name
        if not name:
            match = _NO_MODULE.search(str(exc))
            name = match.group(1) if match else None
        if name:
            return exc, name
    elif isinstance(exc, ImportError) and exc.name in _NAMESPACES:
        # `from google import genai` with no google.genai installed reports "cannot import
        # name 'genai' from 'google'": for a namespace package that is a missing module.
        match = _CANNOT_IMPORT.search(str(exc))
        if match:
            return exc, f"{exc.name}.{match.group(1)}"
    nested: list[BaseException] = list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else []
    nested += [e for e in (exc.__cause__, exc.__context__) if e is not None]
    for inner in nested:
        found = _find_module_error(inner, seen)
        if found is not None:
            return found
    return None


def _refine_from_source(error: BaseException, name: str) -> str:
    """A longer dotted name starting with `name`, read from the import statement that failed."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    for frame in reversed(frames):
        if frame.filename.startswith("<frozen importlib"):
            continue
        match = _IMPORT_LINE.match(frame.line or "")
        if not match:
            return name
        source, imported, plain = match.groups()
        if source:
            candidates = [f"{source}.{part.strip()}" for part in imported.split(",") if part.strip()] + [source]
        else:
            candidates = [part.split(" as ")[0].strip() for part in plain.split(",")]
        for candidate in candidates:
            if (candidate == name or candidate.startswith(name + ".")) and distribution_for_module(candidate):
                # Report the prefix the mapping knows, not a submodule like google.genai.types.
                return candidate
        return name
    return name


def _python() -> str:
    # `python -m pip` only helps if `python` is this interpreter (a pipx or venv install is not).
    on_path = shutil.which("python")
    try:
        same = on_path is not None and Path(on_path).resolve() == Path(sys.executable).resolve()
    except OSError:
        same = False
    return "python" if same else sys.executable


def _message(module: str, distribution: str | None, file: str | None) -> str:
    if distribution is None:
        return (
            f"the pipe imports {module!r}, which is not installed, and tuichat cannot tell which "
            "distribution provides it; check the pipe's documentation and install it with pip"
        )
    return (
        f"the pipe imports {module!r}, which is not installed; it comes from the {distribution!r} "
        f"distribution. Install it with `tuichat pipes add {file or 'FILE'} --install-missing`, "
        f"or `{_python()} -m pip install {distribution}`."
    )
