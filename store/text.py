"""What stored text may hold that a terminal would act on or a reader would
misread, and how to show such text as text.

Everything an agent wrote is data: a name, a request, a file, a diff. Shown
as it is, an escape sequence in it moves the cursor, erases lines, sets the
clipboard (OSC 52) or the window title; a bidirectional override reorders
what a reviewer reads (the "Trojan Source" kind); a zero-width character or a
look-alike dot makes one path read as another. :func:`visible` turns each
such character into a visible stand-in, and :func:`path_lookalike` says what
makes a path deceptive. The app and the CLI show stored text only through
these (the app through ``tui.format.safe``, which also marks the stand-ins)."""

from __future__ import annotations

import re
import unicodedata

# Characters that reorder text or cannot be seen: bidirectional embeddings,
# overrides and isolates, marks, zero-width characters, the byte-order mark,
# line and paragraph separators, and fillers that render as blank.
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
INVISIBLE = frozenset(
    "\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u2028\u2029"
    "\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0\ufff9\ufffa\ufffb"
)
# C0 controls but tab and newline, DEL, C1 controls, the two sets above, and
# lone surrogates (which no terminal should receive).
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(BIDI | INVISIBLE)) + "\ud800-\udfff]"
)
_HIDDEN_ONE_LINE = re.compile(_HIDDEN.pattern[:-1] + "\t\n]")

# Characters that look like the dot or the slash of a path.
_PATH_LOOKALIKES = frozenset(
    "\u2024\u2025\u2026\u2027\u00b7\u0701\u0702\ua4f8\ufe52\uff0e\u3002\uff61"
    "\u2215\u2044\u2571\u29f8\uff0f\u2f03\u3033\u0338"
)


def stand_in(char: str) -> str:
    """The visible stand-in for one hidden character: a C0 control as its
    Unicode control picture (ESC as ␛, CR as ␍), DEL as ␡, anything else
    as ``<U+XXXX>``."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def hidden(value: str, *, multiline: bool = False) -> list[re.Match[str]]:
    """Where ``value`` holds characters that :func:`visible` would replace."""
    return list((_HIDDEN if multiline else _HIDDEN_ONE_LINE).finditer(value))


def has_hidden(value: str, *, multiline: bool = False) -> bool:
    return (_HIDDEN if multiline else _HIDDEN_ONE_LINE).search(value) is not None


def visible(value: str, *, multiline: bool = False) -> str:
    """``value`` with every character a terminal would act on, or a reader
    could not see, replaced by a visible stand-in. With ``multiline``, tabs
    and newlines stay (file contents, diffs); otherwise they are shown too.
    Text with nothing to replace is returned as it is."""
    pattern = _HIDDEN if multiline else _HIDDEN_ONE_LINE
    if pattern.search(value) is None:
        return value
    return pattern.sub(lambda match: stand_in(match.group()), value)


# Scripts whose letters pass for Latin ones (and for each other): a name
# mixing two of them is how a look-alike is made. Other mixes (Japanese
# kana with kanji, say) are ordinary writing.
_CONFUSABLE_SCRIPTS = frozenset(
    {"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "FULLWIDTH"}
    | {"MATHEMATICAL", "LISU", "TIFINAGH", "OLD", "GOTHIC"}
)


_WORDS = re.compile(r"[^\W\d_]+")


def json_escaped(dumped: str) -> str:
    """JSON text (as ``json.dumps`` wrote it) with every hidden character
    written as its ``\\uXXXX`` escape: the same JSON value, safe on a
    terminal. Hidden characters can only stand inside strings there."""
    return _HIDDEN.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)


def _scripts(segment: str) -> set[str]:
    scripts = set()
    for char in segment:
        if not char.isalpha():
            continue
        # The first word of a letter's Unicode name is its script (LATIN,
        # CYRILLIC, GREEK, ...), close enough to catch homoglyph mixes.
        scripts.add(unicodedata.name(char, "UNKNOWN").split(" ", 1)[0])
    return scripts


def path_lookalike(path: str) -> str | None:
    """Why ``path`` could be read as another path, or None: hidden
    characters, a character that looks like a dot or a slash, or letters of
    more than one script in one name (a Latin ``a`` beside a Cyrillic one, U+0430)."""
    match = _HIDDEN_ONE_LINE.search(path)
    if match is not None:
        return f"contains the invisible or control character {stand_in(match.group())}"
    if path.isascii():
        # No look-alike of a dot or a slash, and one script: most paths.
        return None
    for char in path:
        if char in _PATH_LOOKALIKES:
            return (
                f"contains {stand_in(char)} ({unicodedata.name(char, 'unnamed').lower()}),"
                " which looks like a dot or a slash"
            )
    # A word (a run of letters) in two scripts: "paypal" with a Cyrillic a.
    # A Greek name with a Latin extension is two words, and fine.
    for word in _WORDS.findall(path):
        scripts = _scripts(word) & _CONFUSABLE_SCRIPTS
        if len(scripts) > 1:
            named = " and ".join(sorted(script.title() for script in scripts))
            return f"mixes letters of {named} in the word {visible(word)!r}"
    return None
