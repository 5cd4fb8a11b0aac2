"""Text that people and staff write: printable, and stored in Unicode NFC.

Names, addresses, SKUs and descriptions are shown on pages, in the admin,
in e-mails and in exported files. A control character (Unicode category Cc:
C0, DEL, C1) can erase or recolour text in a terminal and has no meaning on
a page; an explicit bidirectional embedding, override or isolate makes the
text show in another order than it is stored (and, left open, reorders what
follows it on the same line). Both are refused; multi-line text keeps its
line breaks and tabs.

Accepted on purpose: the implicit direction marks (U+200E, U+200F, U+061C),
which right-to-left writers type and which cannot reorder letters, and the
zero-width characters (U+200B to U+200D, U+2060, U+FEFF), which emoji sequences
and Persian, Indic and Thai text need. Neither reorders text, and none of
these fields is a login (the e-mail address is).
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

CONTROL_MESSAGE = "Remove the control characters: use printable text only."
# Left-to-right/right-to-left embeddings, overrides, their terminator (PDF),
# isolates and theirs (PDI).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Cc is exactly U+0000 to U+001F and U+007F to U+009F (core/tests/
# test_text.py checks it against unicodedata); a character class finds them
# at C speed, which an import of long descriptions needs.
_BIDI = "".join(sorted(BIDI_CONTROLS))
_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def find_control_character(text: str, *, multiline: bool = False) -> int:
    """Return the index of the first control or bidi character in text, else -1.

    With `multiline`, line feeds, carriage returns and tabs are text.
    """
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text)
    return -1 if found is None else found.start()


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    return find_control_character(text, multiline=multiline) != -1


@deconstructible
class PrintableTextValidator:
    """Refuse control and bidi characters, for model, form and serializer fields."""

    message = CONTROL_MESSAGE
    code = "control_characters"

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value):
        if has_control_characters(str(value), multiline=self.multiline):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return (
            isinstance(other, PrintableTextValidator)
            and self.multiline == other.multiline
        )

    def __hash__(self):
        return hash((PrintableTextValidator, self.multiline))


def normalize(text: str) -> str:
    """Return text in NFC: the composed form ("é", not "e" and a combining accent).

    One stored form, so that equal-looking names compare, search and sort
    alike. NFC, not NFKC: ligatures and full-width letters stay as typed.
    """
    return unicodedata.normalize("NFC", text)


def normalize_text_fields(instance) -> None:
    """Put the model instance's printable-text fields into NFC, before a save.

    The fields are those validated by PrintableTextValidator; deferred ones
    are left unloaded.
    """
    deferred = instance.get_deferred_fields()
    for field in instance._meta.concrete_fields:
        if field.attname in deferred or not any(
            isinstance(validator, PrintableTextValidator)
            for validator in field.validators
        ):
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, str):
            setattr(instance, field.attname, normalize(value))
