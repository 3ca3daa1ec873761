"""One renderer per format, each reading the same Pack tree (one function per block type)."""
