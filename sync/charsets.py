"""Charset labels read the way browsers and mail clients read them, and bytes decoded by them.

A label names an encoding through the WHATWG Encoding Standard's table
(https://encoding.spec.whatwg.org/#names-and-labels), written out below as data: "latin1"
and "us-ascii" mean windows-1252, "gb2312" means GBK, "ks_c_5601-1987" means EUC-KR, and the
"replacement" labels (iso-2022-kr, hz-gb-2312...) decode to a single U+FFFD. UTF-7, which
mail clients still read and browsers do not, is the one label added for mail.

Decoding never raises. What a label does not name is read as UTF-8 when it decodes, else as
windows-1252; a label naming ASCII is treated the same way, because 8-bit text declared
ASCII is, in practice, UTF-8 sent by software that did not say so.
"""

from __future__ import annotations

import codecs
import re

LABELS: dict[str, tuple[str, ...]] = {
    "utf-8": (
        "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8",
    ),
    "ibm866": ("866", "cp866", "csibm866", "ibm866"),
    "iso-8859-2": (
        "csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2",
        "iso_8859-2:1987", "l2", "latin2",
    ),
    "iso-8859-3": (
        "csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593", "iso_8859-3",
        "iso_8859-3:1988", "l3", "latin3",
    ),
    "iso-8859-4": (
        "csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594", "iso_8859-4",
        "iso_8859-4:1988", "l4", "latin4",
    ),
    "iso-8859-5": (
        "csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144", "iso8859-5", "iso88595",
        "iso_8859-5", "iso_8859-5:1988",
    ),
    "iso-8859-6": (
        "arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic", "ecma-114",
        "iso-8859-6", "iso-8859-6-e", "iso-8859-6-i", "iso-ir-127", "iso8859-6", "iso88596",
        "iso_8859-6", "iso_8859-6:1987",
    ),
    "iso-8859-7": (
        "csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-8859-7", "iso-ir-126",
        "iso8859-7", "iso88597", "iso_8859-7", "iso_8859-7:1987", "sun_eu_greek",
    ),
    "iso-8859-8": (
        "csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8", "iso-8859-8-e", "iso-ir-138",
        "iso8859-8", "iso88598", "iso_8859-8", "iso_8859-8:1988", "visual",
    ),
    "iso-8859-8-i": ("csiso88598i", "iso-8859-8-i", "logical"),
    "iso-8859-10": (
        "csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6",
    ),
    "iso-8859-13": ("iso-8859-13", "iso8859-13", "iso885913"),
    "iso-8859-14": ("iso-8859-14", "iso8859-14", "iso885914"),
    "iso-8859-15": (
        "csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9",
    ),
    "iso-8859-16": ("iso-8859-16",),
    "koi8-r": ("cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"),
    "koi8-u": ("koi8-ru", "koi8-u"),
    "macintosh": ("csmacintosh", "mac", "macintosh", "x-mac-roman"),
    "windows-874": (
        "dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874",
    ),
    "windows-1250": ("cp1250", "windows-1250", "x-cp1250"),
    "windows-1251": ("cp1251", "windows-1251", "x-cp1251"),
    "windows-1252": (
        "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1",
        "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1",
        "us-ascii", "windows-1252", "x-cp1252",
    ),
    "windows-1253": ("cp1253", "windows-1253", "x-cp1253"),
    "windows-1254": (
        "cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599",
        "iso_8859-9", "iso_8859-9:1989", "l5", "latin5", "windows-1254", "x-cp1254",
    ),
    "windows-1255": ("cp1255", "windows-1255", "x-cp1255"),
    "windows-1256": ("cp1256", "windows-1256", "x-cp1256"),
    "windows-1257": ("cp1257", "windows-1257", "x-cp1257"),
    "windows-1258": ("cp1258", "windows-1258", "x-cp1258"),
    "x-mac-cyrillic": ("x-mac-cyrillic", "x-mac-ukrainian"),
    "gbk": (
        "chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk",
        "iso-ir-58", "x-gbk",
    ),
    "gb18030": ("gb18030",),
    "big5": ("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    "euc-jp": ("cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"),
    "iso-2022-jp": ("csiso2022jp", "iso-2022-jp"),
    "shift_jis": (
        "csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j",
        "x-sjis",
    ),
    "euc-kr": (
        "cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987",
        "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949",
    ),
    "replacement": (
        "csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr",
        "replacement",
    ),
    "utf-16be": ("unicodefffe", "utf-16be"),
    "utf-16le": (
        "csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le",
    ),
    "x-user-defined": ("x-user-defined",),
    # Not in the WHATWG table: mail clients (Thunderbird, Outlook) still decode UTF-7.
    "utf-7": ("csunicode11utf7", "unicode-1-1-utf-7", "utf-7", "x-unicode-2-0-utf-7"),
}  # fmt: skip

# The Python codecs that read each encoding; several are tried in order, strictly, before the
# first is used with U+FFFD for what it cannot read. Encodings absent here are decoded below.
_CODECS: dict[str, tuple[str, ...]] = {
    "ibm866": ("cp866",),
    "iso-8859-2": ("iso8859_2",),
    "iso-8859-3": ("iso8859_3",),
    "iso-8859-4": ("iso8859_4",),
    "iso-8859-5": ("iso8859_5",),
    "iso-8859-6": ("iso8859_6",),
    "iso-8859-7": ("iso8859_7",),
    "iso-8859-8": ("iso8859_8",),
    "iso-8859-8-i": ("iso8859_8",),
    "iso-8859-10": ("iso8859_10",),
    "iso-8859-13": ("iso8859_13",),
    "iso-8859-14": ("iso8859_14",),
    "iso-8859-15": ("iso8859_15",),
    "iso-8859-16": ("iso8859_16",),
    "koi8-r": ("koi8_r",),
    "koi8-u": ("koi8_u",),
    "macintosh": ("mac_roman",),
    "windows-874": ("cp874",),
    "windows-1250": ("cp1250",),
    "windows-1251": ("cp1251",),
    "windows-1253": ("cp1253",),
    "windows-1254": ("cp1254",),
    "windows-1255": ("cp1255",),
    "windows-1256": ("cp1256",),
    "windows-1257": ("cp1257",),
    "windows-1258": ("cp1258",),
    "x-mac-cyrillic": ("mac_cyrillic",),
    "gbk": ("gb18030",),  # the WHATWG GBK decoder is the gb18030 decoder
    "gb18030": ("gb18030",),
    "big5": ("big5hkscs",),
    "euc-jp": ("euc_jp", "euc_jis_2004"),  # the second reads NEC's circled digits and the like
    "shift_jis": ("cp932",),
    "euc-kr": ("cp949",),
    "utf-16be": ("utf_16_be",),
    "utf-16le": ("utf_16_le",),
    "utf-7": ("utf_7",),
}

_BY_LABEL = {label: name for name, labels in LABELS.items() for label in labels}
_ASCII_LABELS = frozenset({"ansi_x3.4-1968", "ascii", "us-ascii"})
_LABEL_TRIM = " \t\n\f\r\"'"
# windows-1252 leaves five bytes undefined; WHATWG maps them to the C1 controls of that value.
_CP1252_HOLES = {0xDC00 + byte: byte for byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_KOI8_RU = {0x255D: 0x045E, 0x256C: 0x040E}  # WHATWG's KOI8-U has ў and Ў at 0xAE and 0xBE
_USER_DEFINED = {byte: 0xF780 + byte - 0x80 for byte in range(0x80, 0x100)}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (b"\xfe\xff", "utf-16be"), (b"\xff\xfe", "utf-16le"))
_SURROGATE = re.compile("[\ud800-\udfff]")
_JIS_ESCAPE = re.compile(rb"\x1b(\(B|\(J|\(I|\$@|\$B)")


def encoding_for(label: str | None) -> str | None:
    """The WHATWG name of the encoding a label means, None for an unknown or absent label."""
    if label is None:
        return None
    return _BY_LABEL.get(label.strip(_LABEL_TRIM).lower())


def decode(data: bytes, label: str | None, *, sniff_bom: bool = True) -> str:
    """Text in `label`'s encoding; a byte order mark wins over the label, as in browsers."""
    if sniff_bom:
        for bom, sniffed in _BOMS:
            if data.startswith(bom):
                return _decode_as(data[len(bom) :], sniffed)
    name = encoding_for(label)
    if name is None or label is None or label.strip(_LABEL_TRIM).lower() in _ASCII_LABELS:
        return _utf8_or_cp1252(data)
    return _decode_as(data, name)


def decode_8bit(data: bytes, label: str | None) -> str:
    """Header bytes sent unencoded: in the declared charset when they are valid in it, else
    UTF-8 when valid, else windows-1252. Raw ISO-2022-JP (7-bit escapes) is recognised."""
    if data.isascii() and b"\x1b$" not in data:
        return data.decode("ascii")
    name = encoding_for(label)
    if b"\x1b$" in data and name in (None, "iso-2022-jp"):
        name = "iso-2022-jp"
    if name is not None and name not in ("replacement", "utf-16be", "utf-16le", "x-user-defined"):
        strict = _strict(data, name)
        if strict is not None:
            return strict
    return _utf8_or_cp1252(data)


def _utf8_or_cp1252(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _cp1252(data)


def _strict(data: bytes, name: str) -> str | None:
    if name == "iso-2022-jp":
        text = _iso2022jp(data)
        return None if "\ufffd" in text else text
    for codec in _CODECS.get(name, ("utf-8",) if name == "utf-8" else ()):
        try:
            return _fix(data.decode(codec), name)
        except UnicodeDecodeError:
            continue
    return _cp1252(data) if name == "windows-1252" else None


def _decode_as(data: bytes, name: str) -> str:
    if name == "utf-8":
        return _utf8_with_cp1252_bytes(data)
    if name == "windows-1252":
        return _cp1252(data)
    if name == "replacement":
        return "\ufffd" if data else ""
    if name == "x-user-defined":
        return data.decode("latin-1").translate(_USER_DEFINED)
    if name == "iso-2022-jp":
        return _iso2022jp(data)
    strict = _strict(data, name)
    if strict is not None:
        return strict
    return _fix(data.decode(_CODECS[name][0], "replace"), name)


def _fix(text: str, name: str) -> str:
    if name == "koi8-u":
        return text.translate(_KOI8_RU)
    if name == "utf-7":  # Python's UTF-7 decoder lets unpaired surrogates through
        return _SURROGATE.sub("\ufffd", text)
    return text


def _cp1252(data: bytes) -> str:
    return data.decode("cp1252", "surrogateescape").translate(_CP1252_HOLES)


def _utf8_with_cp1252_bytes(data: bytes) -> str:
    """UTF-8, where the odd byte that is not UTF-8 (a Latin-1 signature glued on by a list
    server, say) is read as windows-1252 instead of being lost."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")
    return "".join(
        _cp1252(bytes([ord(ch) - 0xDC00])) if "\udc80" <= ch <= "\udcff" else ch for ch in text
    )


def _iso2022jp(data: bytes) -> str:
    """ISO-2022-JP as WHATWG reads it: JIS X 0208 with the NEC and IBM extensions (decoded
    through their Shift_JIS form), JIS X 0201 Roman and half-width katakana."""
    out: list[str] = []
    mode = b"(B"
    pos = 0
    for match in [*_JIS_ESCAPE.finditer(data), None]:
        end = match.start() if match is not None else len(data)
        chunk = data[pos:end]
        if mode == b"$@" or mode == b"$B":
            out.append(_jis0208(chunk))
        elif mode == b"(I":
            out.append("".join(_half_width_katakana(byte) for byte in chunk))
        else:
            text = chunk.decode("ascii", "replace")
            out.append(text.replace("\\", "¥").replace("~", "‾") if mode == b"(J" else text)
        if match is None:
            break
        mode, pos = match.group(1), match.end()
    return "".join(out)


def _half_width_katakana(byte: int) -> str:
    return chr(0xFF61 + byte - 0x21) if 0x21 <= byte <= 0x5F else "\ufffd"


def _jis0208(chunk: bytes) -> str:
    out: list[str] = []
    sjis = bytearray()
    for i in range(0, len(chunk) - 1, 2):
        j1, j2 = chunk[i], chunk[i + 1]
        if 0x21 <= j1 <= 0x7E and 0x21 <= j2 <= 0x7E:
            s1 = (j1 + 1) // 2 + (0x70 if j1 <= 0x5E else 0xB0)
            s2 = j2 + (0x1F if j1 % 2 else 0x7E) + (1 if j1 % 2 and j2 >= 0x60 else 0)
            sjis += bytes((s1, s2))
        else:
            out.append(bytes(sjis).decode("cp932", "replace") + "\ufffd")
            sjis.clear()
    out.append(bytes(sjis).decode("cp932", "replace"))
    return "".join(out) + ("\ufffd" if len(chunk) % 2 else "")
