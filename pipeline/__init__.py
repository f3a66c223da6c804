"""panelpress: turn panel recordings into a podcast."""

__version__ = "0.1.0"
