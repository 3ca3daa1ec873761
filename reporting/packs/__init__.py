"""Pack templates, the assembler and the Office/PDF renderers."""
