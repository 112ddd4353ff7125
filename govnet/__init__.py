"""govnet's command line: the edge that uses topology, simulator and policies."""

__version__ = "0.1.0"
