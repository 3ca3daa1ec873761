"""Organisation names as organisations write them, whatever case the upstream file used.

Published reference files often carry names in upper case (ODS) or naively title-cased ("Guy'S And St
Thomas' NHS Foundation Trust"). A Board paper that misspells the trust's own name is not sent, so names are
normalised once, when reference data is loaded: small words lower-case inside a name, acronyms upper-case,
no capital after an apostrophe, and a short table of names that follow none of the rules. A reference file
can always say it better itself: an override column (`orgs: {display_name: <column>}`) is used verbatim.
"""

from __future__ import annotations

import re

__all__ = ["normalise_org_name"]

#: written lower-case unless they start the name (or follow an opening bracket)
SMALL_WORDS = frozenset({"and", "of", "the", "for", "on", "upon", "in", "at", "with", "by"})
#: written upper-case wherever they appear
ACRONYMS = frozenset({"nhs", "icb", "ics", "icp", "uk", "gp", "cic", "llp", "plc", "hscp"})
#: words whose own spelling no rule gives (lower-case key -> as written)
WORDS: dict[str, str] = {"2gether": "2gether"}

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*['’]?")


def _shouted(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return len(letters) > 3 and all(c.isupper() for c in letters)


def _naive(word: str) -> bool:
    """Cased by a machine: every word capitalised, including after an apostrophe ("Guy'S", "And", "Nhs")."""
    return word == word.title()


def _word(word: str, *, first: bool) -> str:
    lower = word.lower()
    if lower in WORDS:
        return WORDS[lower]
    if lower in ACRONYMS:
        return lower.upper()
    if lower in SMALL_WORDS and not first:
        return lower
    return lower[:1].upper() + lower[1:]  # no capital after an apostrophe: "Guy'S" -> "Guy's"


def normalise_org_name(name: str) -> str:
    """`GUY'S AND ST THOMAS' NHS FOUNDATION TRUST` and `Guy'S And St Thomas' Nhs Foundation Trust` both
    become `Guy's and St Thomas' NHS Foundation Trust`. Words already written with care ("McMillan",
    "iCare", "of") are left as they are, so a correct name is never made worse."""
    text = " ".join(str(name).split())
    shouted = _shouted(text)
    out: list[str] = []
    last = 0
    for i, match in enumerate(_WORD.finditer(text)):
        gap, word = text[last : match.start()], match.group(0)
        first = i == 0 or "(" in gap
        naive = shouted or _naive(word) or word.lower() in ACRONYMS
        out += [gap, _word(word, first=first) if naive else word]
        last = match.end()
    out.append(text[last:])
    return "".join(out)
