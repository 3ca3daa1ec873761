"""The one way a renderer refuses a block it has no rule for (every renderer dispatches on the block's type)."""

from __future__ import annotations

from reporting.errors import ReportingError

__all__ = ["no_rule"]


def no_rule(renderer: str, block: object, where: str = "") -> ReportingError:
    """The error each renderer's singledispatch fallback raises: the same type and words in every format.

    A block reaching a renderer without a rule is a programming error (a new node type), but it is raised as a
    ReportingError so the command line prints it as one line naming the renderer, the block and where it was.
    """
    prefix = f"{where}: " if where else ""
    return ReportingError(f"{prefix}the {renderer} renderer has no rule for a {type(block).__name__} block")
