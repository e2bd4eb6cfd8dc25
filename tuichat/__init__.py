"""tuichat: run and test Open WebUI pipes in the terminal."""

__version__ = "0.1.0"
