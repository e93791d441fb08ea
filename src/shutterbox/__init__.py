"""shutterbox: self-hostable image sharing."""

__version__ = "0.1.0"
