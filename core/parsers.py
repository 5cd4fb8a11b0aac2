"""Request parsers: DRF's, hardened against input that would fail the server."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing nesting too deep to decode with a 400.

    Python's decoder recurses once per level, so a few thousand nested
    brackets ('[[[[…') raise RecursionError, which DRF does not catch: the
    request was a 500. It is the client's malformed input: a parse_error.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                "JSON parse error - the document is nested too deeply."
            ) from None
