"""formcheck: camera-based movement form checking for back-care exercise therapy."""

__version__ = "0.1.0"
