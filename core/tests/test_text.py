import sys
import unicodedata

import pytest
from django.core.exceptions import ValidationError

from core.text import (
    BIDI_CONTROLS,
    CONTROL_MESSAGE,
    PrintableTextValidator,
    find_control_character,
    has_control_characters,
    normalize,
)

# A sample of Cc: C0 controls, DEL and C1 controls, the line breaks and the tab.
CONTROL_CHARACTERS = [
    "\u0000",
    "\u0007",
    "\u0008",
    "\u001b",
    "\u001f",
    "\u007f",
    "\u0080",
    "\u0085",
    "\u009b",
    "\u009f",
    "\t",
    "\n",
    "\r",
    "\u000b",
    "\u000c",
]
# What people write: accents, CJK, emoji sequences, right-to-left scripts and
# the invisible characters that those scripts and sequences need.
ORDINARY_TEXT = [
    "Zoë Ünal-Ørsted",
    "José Ñúñez",
    "王小明",
    "こんにちは",
    "محمد عبد الله",
    "שלום עליכם",
    "\U0001f469\u200d\U0001f4bb \U0001f3f3\ufe0f\u200d\U0001f308",  # ZWJ emoji
    # Persian, with a zero-width non-joiner
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "ภาษา\u200bไทย",  # Thai, with a zero-width space between words
    # Right-to-left and left-to-right marks
    "Order \u200f\u05e9\u05dc\u05d5\u05dd\u200e 12",
    "\u061c\u0661\u0662",  # the Arabic letter mark
    "O'Brien & Sons <b>",
]


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_a_control_character_is_not_printable_text(character):
    validate = PrintableTextValidator()

    with pytest.raises(ValidationError) as refusal:
        validate(f"Tea{character}pot")

    assert refusal.value.messages == [CONTROL_MESSAGE]
    assert refusal.value.code == "control_characters"


@pytest.mark.parametrize("character", sorted(BIDI_CONTROLS))
def test_a_bidi_embedding_override_or_isolate_is_not_printable_text(character):
    validate = PrintableTextValidator(multiline=True)

    with pytest.raises(ValidationError) as refusal:
        validate(f"{character}topeaT")

    assert refusal.value.messages == [CONTROL_MESSAGE]


def test_the_bidi_controls_are_the_embeddings_overrides_and_isolates():
    assert sorted(BIDI_CONTROLS) == [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
    ]


@pytest.mark.parametrize("text", ORDINARY_TEXT)
def test_ordinary_unicode_is_printable_text(text):
    PrintableTextValidator()(text)

    assert find_control_character(text) == -1


def test_the_refused_characters_are_cc_and_the_bidi_controls_exactly():
    refused = {
        character
        for character in map(chr, range(sys.maxunicode + 1))
        if has_control_characters(character)
    }

    assert refused == {
        character
        for character in map(chr, range(sys.maxunicode + 1))
        if unicodedata.category(character) == "Cc"
    } | set(BIDI_CONTROLS)


def test_multiline_text_takes_line_breaks_and_tabs():
    PrintableTextValidator(multiline=True)("Floral.\r\n\tBright.\nTea")

    assert has_control_characters("a\r\n\tb", multiline=True) is False


@pytest.mark.parametrize("character", ["\u0000", "\u001b", "\u0085", "\u000b"])
def test_multiline_text_refuses_the_other_control_characters(character):
    with pytest.raises(ValidationError):
        PrintableTextValidator(multiline=True)(f"Line one\n{character}Line two")


def test_single_line_text_refuses_line_breaks_and_tabs():
    assert [
        has_control_characters(text) for text in ["a\nb", "a\rb", "a\tb", "a b"]
    ] == [True, True, True, False]


def test_find_control_character_gives_the_first_ones_index():
    assert find_control_character("ab\u202ec\u0007") == 2
    assert find_control_character("a\nb\u0007", multiline=True) == 3


def test_the_validator_is_equal_to_its_like_for_migrations():
    assert PrintableTextValidator() == PrintableTextValidator(multiline=False)
    assert PrintableTextValidator() != PrintableTextValidator(multiline=True)
    assert PrintableTextValidator(multiline=True).deconstruct() == (
        "core.text.PrintableTextValidator",
        (),
        {"multiline": True},
    )


@pytest.mark.parametrize(
    ("text", "composed"),
    [
        ("Cafe\u0301", "Café"),
        ("A\u030angstro\u0308m", "Ångström"),
        ("\u212b", "\u00c5"),  # the angstrom sign is the letter Å
        ("\u1100\u1161", "\uac00"),  # Hangul jamo compose to a syllable
        ("Café", "Café"),
    ],
)
def test_normalize_composes_text_to_nfc(text, composed):
    assert normalize(text) == composed


def test_normalize_keeps_compatibility_characters_as_written():
    # NFC, not NFKC: a ligature or a full-width letter stays as it was typed.
    compatibility = "\ufb01ne \uff34ea \u2460"  # a ligature, a full-width T, (1)

    assert normalize(compatibility) == compatibility
