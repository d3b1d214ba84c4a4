#!/usr/bin/env python3
"""Generates include/shopml/tokenize/unicode_data.hpp: the Unicode character
properties HF tokenizers' components use, as compact sorted range lists.

Why probe the reference instead of reading one UCD version: HF tokenizers 0.23.3
mixes several Unicode versions (see scripts/unicode/README.md):
  * Rust std `char::is_whitespace` / `char::to_lowercase` (Unicode of the rustc
    that built the wheel, 15.x/16.x),
  * crate `unicode_categories` 0.1.1 (Unicode 9-era tables: `is_other` treats every
    later-assigned code point as Cn, so BertNormalizer(clean_text) drops e.g. U+1F970),
  * crate `unicode-normalization-alignments` 0.1.12 (Unicode 9-era NFD/NFC),
  * oniguruma 6.9 (`\\p{L}`, `\\p{N}`, `\\s` in the ByteLevel/GPT-2 regex).
Asking the reference itself for every code point gives tables that match all of them
exactly; Python's `unicodedata` (UCD 14.0 here) is used for the canonical combining
classes and to report how far the reference departs from it.

Run: "$(scripts/golden/make-venv.sh)" scripts/unicode/gen_tables.py
"""
import pathlib
import sys
import unicodedata

import tokenizers
from tokenizers import Regex
from tokenizers import normalizers as N
from tokenizers import pre_tokenizers as P

OUT = pathlib.Path(__file__).resolve().parents[2] / "include/shopml/tokenize/unicode_data.hpp"
CODE_POINTS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def ranges(members):
    out, start, prev = [], None, None
    for c in sorted(members):
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            out.append((start, prev))
            start = prev = c
    if start is not None:
        out.append((start, prev))
    return out


def per_char(fn):
    return {c: fn(chr(c)) for c in CODE_POINTS}


def regex_class(pattern):
    """Code points a oniguruma class matches, probed in one call on a long string."""
    split = P.Split(Regex(pattern), "isolated")
    text = "".join(chr(c) for c in CODE_POINTS)
    members = set()
    for piece, (start, end) in split.pre_tokenize_str(text):
        if end - start == 1 and piece.__len__() == 1:
            if P.Split(Regex(f"^{pattern}$"), "removed").pre_tokenize_str(piece) == []:
                members.add(ord(piece))
    return members


def main():
    clean = N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    cleaned = per_char(clean.normalize_str)
    dropped = {c for c, s in cleaned.items() if s == ""}
    clean_space = {c for c, s in cleaned.items() if s == " " and c != 0x20}

    bert = P.BertPreTokenizer()
    whitespace, punctuation = set(), set()
    for c in CODE_POINTS:
        pieces = [p for p, _ in bert.pre_tokenize_str("x" + chr(c) + "x")]
        if pieces == ["x", "x"]:
            whitespace.add(c)
        elif pieces == ["x", chr(c), "x"]:
            punctuation.add(c)

    # The StripAccents normalizer drops every combining mark (Mn, Mc, Me); BertNormalizer's
    # accent stripping only drops Mn (after NFD, so only chars without a decomposition matter).
    strip = N.StripAccents()
    combining = {c for c in CODE_POINTS if strip.normalize_str(chr(c)) == ""}
    bert_strip = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    nonspacing = {c for c in CODE_POINTS if bert_strip.normalize_str(chr(c)) == ""}

    lower = N.Lowercase()
    lowercase = {c: s for c, s in per_char(lower.normalize_str).items() if s != chr(c)}

    nfd = N.NFD()
    decomp = {c: s for c, s in per_char(nfd.normalize_str).items() if s != chr(c)}
    hangul = {c: s for c, s in decomp.items() if 0xAC00 <= c <= 0xD7A3}
    assert all(unicodedata.normalize("NFD", chr(c)) == s for c, s in hangul.items()), "Hangul is algorithmic"
    decomp = {c: s for c, s in decomp.items() if c not in hangul}
    nfc = N.NFC()
    # Primary composites: NFC of their decomposition gives them back (so they are
    # not composition exclusions); Hangul is algorithmic and handled in code.
    compositions = {}
    for c, d in decomp.items():
        if 0xAC00 <= c <= 0xD7A3:
            continue
        if nfc.normalize_str(d) == chr(c):
            # Canonical composition pairs: first char of the one-level decomposition + last char.
            one = unicodedata.decomposition(chr(c)).split()
            if one and not one[0].startswith("<") and len(one) == 2:
                compositions[(int(one[0], 16), int(one[1], 16))] = c
    ccc = {c: unicodedata.combining(chr(c)) for c in CODE_POINTS if unicodedata.combining(chr(c))}

    letters = regex_class(r"\p{L}")
    numbers = regex_class(r"\p{N}")
    spaces = regex_class(r"\s")
    # \w as the Whitespace pre-tokenizer (\w+|[^\w\s]+) sees it: a lone \w between two
    # punctuation chars is its own piece. (Probing \w alone differs for U+200C/U+200D.)
    ws = P.Whitespace()
    words = {c for c in CODE_POINTS if len(ws.pre_tokenize_str("!" + chr(c) + "!")) == 3}

    ucd_ws = {c for c in CODE_POINTS if chr(c).isspace()}
    report = {
        "dropped by clean_text but assigned in UCD " + unicodedata.unidata_version:
            sum(1 for c in dropped if unicodedata.category(chr(c)) not in ("Cc", "Cf", "Cn", "Co") and c not in (0, 0xFFFD)),
        "NFD mappings differing from unicodedata": sum(1 for c in CODE_POINTS if unicodedata.normalize("NFD", chr(c)) != decomp.get(c, hangul.get(c, chr(c)))),
        "Mn differing from unicodedata (decomposing chars aside)": len(nonspacing ^ {c for c in CODE_POINTS if unicodedata.category(chr(c)) == "Mn" and unicodedata.normalize("NFD", chr(c)) == chr(c)}),
        "combining marks differing from unicodedata M*": len(combining ^ {c for c in CODE_POINTS if unicodedata.category(chr(c)).startswith("M")}),
        "whitespace differing from str.isspace": len(whitespace ^ ucd_ws),
    }
    for k, v in report.items():
        print(f"{k}: {v}", file=sys.stderr)

    def emit_ranges(name, members, why):
        rs = ranges(members)
        body = ",".join(f"{{0x{a:X},0x{b:X}}}" for a, b in rs)
        return f"// {why}\ninline constexpr code_point_range {name}[] = {{{body}}};\n"

    def seq(s):
        return "{" + ",".join(f"0x{ord(ch):X}" for ch in s) + "}"

    def emit_map(name, mapping, why, width):
        items = ",".join(f"{{0x{c:X},{len(s)},{seq(s)}}}" for c, s in sorted(mapping.items()))
        return (f"// {why}\ninline constexpr code_point_mapping<{width}> {name}[] = {{{items}}};\n")

    max_decomp = max(len(s) for s in decomp.values())
    max_lower = max(len(s) for s in lowercase.values())
    parts = [
        "#pragma once\n",
        "// GENERATED by scripts/unicode/gen_tables.py from HF tokenizers "
        f"{tokenizers.__version__} (probed per code point) and Python unicodedata "
        f"{unicodedata.unidata_version} (combining classes). Do not edit.\n\n",
        "#include <array>\n#include <cstdint>\n\nnamespace shopml::tokenize::unicode_data {\n\n",
        "struct code_point_range { char32_t first, last; };\n",
        "template <std::size_t N> struct code_point_mapping { char32_t from; std::uint8_t length; std::array<char32_t, N> to; };\n",
        "struct combining_class { char32_t cp; std::uint8_t ccc; };\n",
        "struct composition { char32_t first, second, composite; };\n\n",
        emit_ranges("clean_text_dropped", dropped, "BertNormalizer clean_text removes these (NUL, U+FFFD, unicode_categories is_other minus \\t\\n\\r)."),
        emit_ranges("clean_text_space", clean_space, "BertNormalizer clean_text turns these into ' ' (Rust char::is_whitespace)."),
        emit_ranges("whitespace", whitespace, "Rust char::is_whitespace, as BertPreTokenizer and Whitespace split on it."),
        emit_ranges("bert_punctuation", punctuation, "BertPreTokenizer punctuation: ASCII punctuation or unicode_categories P*."),
        emit_ranges("nonspacing_mark", nonspacing, "Mn as BertNormalizer strips it (probed after NFD: chars that decompose are not listed)."),
        emit_ranges("combining_mark", combining, "Mn, Mc and Me: what the StripAccents normalizer removes."),
        emit_ranges("regex_letter", letters, "oniguruma \\p{L} (GPT-2 pre-tokenizer)."),
        emit_ranges("regex_number", numbers, "oniguruma \\p{N} (GPT-2 pre-tokenizer)."),
        emit_ranges("regex_space", spaces, "oniguruma \\s (GPT-2 and Whitespace pre-tokenizers)."),
        emit_ranges("regex_word", words, "oniguruma \\w as the Whitespace pre-tokenizer matches it."),
        emit_map("lowercase", lowercase, "Rust char::to_lowercase where it changes the char.", max_lower),
        emit_map("canonical_decomposition", decomp, "Full canonical decomposition (NFD) of single code points; Hangul syllables are algorithmic.", max_decomp),
        "// Canonical combining classes (non-zero only).\ninline constexpr combining_class combining_classes[] = {"
        + ",".join(f"{{0x{c:X},{v}}}" for c, v in sorted(ccc.items())) + "};\n",
        "// Canonical compositions (primary composites, exclusions removed), sorted by (first, second).\n"
        "inline constexpr composition compositions[] = {"
        + ",".join(f"{{0x{a:X},0x{b:X},0x{c:X}}}" for (a, b), c in sorted(compositions.items())) + "};\n",
        "\n}  // namespace shopml::tokenize::unicode_data\n",
    ]
    OUT.write_text("".join(parts))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
