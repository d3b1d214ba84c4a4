#!/usr/bin/env python3
"""Generates include/shopml/tokenize/unicode_data.hpp: the Unicode character properties HF
tokenizers' components use, as compact sorted range lists and mappings, computed from the
Unicode Character Database.

HF tokenizers takes each property from a different dependency, each built from its own Unicode
version, so each table is made from the UCD of that version (scripts/unicode/README.md; the
sources are pinned in scripts/unicode/requirements.txt and fetched into .cache/unicode/):
  * crate unicode_categories 0.1.1 ............ Unicode 8.0  (Cc/Cf/Co, Mn, P*)
  * crate unicode-normalization-alignments .... Unicode 9.0  (NFD, NFC, combining classes, M*)
  * oniguruma 6.9, Rust regex crate ........... Unicode 16.0 (\\p{L}, \\p{N}, \\s, \\w)
  * Rust std of the rustc that built the wheel  Unicode 17.0 (White_Space, to_lowercase)

Run:   "$(scripts/golden/make-venv.sh)" scripts/unicode/gen_tables.py
Check: "$(scripts/golden/make-venv.sh)" scripts/unicode/gen_tables.py --check
       (also asks HF tokenizers for every code point and prints, per table, how many code points
       the UCD-derived table and HF disagree on; exits 1 unless every count is 0)
"""
import pathlib
import sys

import ucd
from ucd import CODE_POINTS

OUT = pathlib.Path(__file__).resolve().parents[2] / "include/shopml/tokenize/unicode_data.hpp"
REFERENCE = "0.23.3"  # the HF tokenizers release the tables follow
HANGUL = range(0xAC00, 0xD7A4)
ASCII_PUNCTUATION = {ord(ch) for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}

# The UCD of each dependency, as pinned in requirements.txt.
CATEGORIES = "unicodedata2==8.0.0"  # crate unicode_categories 0.1.1
NORMALIZATION = "unicodedata2==9.0.0.post4"  # crate unicode-normalization-alignments 0.1.12
RUST_STD = "unicodedata2==17.0.1"  # Rust std: char::to_lowercase
RUST_STD_PROPERTIES = "regex==2025.11.3"  # Rust std: char::is_whitespace
REGEX = "regex==2024.11.6"  # oniguruma 6.9 (onig crate) and the Rust regex crate


def ucd_tables():
    """{table: (data, Unicode version, what it is)}; data is a set of code points or a mapping."""
    v = ucd.unicode_versions()
    categories, normalization, rust_std = (ucd.compiled_ucd(pin) for pin in (CATEGORIES, NORMALIZATION, RUST_STD))
    rust_white_space = ucd.property_sets(RUST_STD_PROPERTIES, {"white_space": r"\p{White_Space}"})["white_space"]
    regex = ucd.property_sets(REGEX, {
        "letter": r"\p{L}", "number": r"\p{N}", "space": r"\p{White_Space}",
        # \w as UTS #18 defines it, which both engines follow.
        "word": r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]"})

    def category(u, prefixes):
        return {c for c in CODE_POINTS if u.category(c).startswith(prefixes)}

    dropped = (category(categories, ("Cc", "Cf", "Co")) - {0x9, 0xA, 0xD}) | {0x0, 0xFFFD}
    nonspacing = category(categories, "Mn")
    decomposition = {c: d for c in CODE_POINTS if c not in HANGUL and (d := normalization.canonical_decomposition(c)) != [c]}
    lowercase = {c: m for c in CODE_POINTS if (m := rust_std.lowercase(c)) != [c]}
    return {
        "clean_text_dropped": (dropped, v[CATEGORIES],
                               "BertNormalizer clean_text removes these: NUL, U+FFFD and unicode_categories is_other (Cc, Cf, Co) minus \\t\\n\\r."),
        "clean_text_space": ((rust_white_space | {0x9, 0xA, 0xD}) - dropped - {0x20}, v[RUST_STD_PROPERTIES],
                             "BertNormalizer clean_text turns these into ' ': Rust char::is_whitespace (White_Space) and \\t\\n\\r, less what it removes."),
        "whitespace": (rust_white_space, v[RUST_STD_PROPERTIES], "Rust char::is_whitespace (White_Space), as BertPreTokenizer and Whitespace split on it."),
        "bert_punctuation": (ASCII_PUNCTUATION | category(categories, "P"), v[CATEGORIES],
                             "BertPreTokenizer punctuation: ASCII punctuation or unicode_categories P*."),
        "nonspacing_mark": ({c for c in CODE_POINTS if all(x in nonspacing for x in decomposition.get(c, [c]))},
                            f"{v[CATEGORIES]} (Mn), {v[NORMALIZATION]} (NFD)",
                            "BertNormalizer strip_accents removes these: Mn after NFD, so chars whose whole NFD is Mn."),
        "combining_mark": (category(normalization, "M"), v[NORMALIZATION],
                           "Mn, Mc and Me: what the StripAccents normalizer removes."),
        "regex_letter": (regex["letter"], v[REGEX], "oniguruma \\p{L} (GPT-2 pre-tokenizer)."),
        "regex_number": (regex["number"], v[REGEX], "oniguruma \\p{N} (GPT-2 pre-tokenizer)."),
        "regex_space": (regex["space"], v[REGEX], "oniguruma \\s = White_Space (GPT-2 and Whitespace pre-tokenizers)."),
        "regex_word": (regex["word"], v[REGEX],
                       "\\w = Alphabetic, M, Nd, Pc, Join_Control: oniguruma's (Whitespace pre-tokenizer) and the Rust regex crate's (added tokens' single_word)."),
        "lowercase": (lowercase, v[RUST_STD],
                      "Rust char::to_lowercase where it changes the char (UnicodeData + unconditional SpecialCasing)."),
        "canonical_decomposition": (decomposition, v[NORMALIZATION],
                                    "Full canonical decomposition (NFD) of single code points; Hangul syllables are algorithmic."),
        "combining_classes": ({c: k for c in CODE_POINTS if (k := normalization.combining(c))}, v[NORMALIZATION],
                              "Canonical combining classes (non-zero only)."),
        "compositions": (normalization.compositions(), v[NORMALIZATION],
                         "Canonical compositions (primary composites, exclusions removed), sorted by (first, second)."),
    }


def emit(tables):
    def ranges(members):
        out = []
        for c in sorted(members):
            if out and out[-1][1] == c - 1:
                out[-1][1] = c
            else:
                out.append([c, c])
        return out

    def seq(s):
        return "{" + ",".join(f"0x{x:X}" for x in s) + "}"

    def comment(name):
        _, version, why = tables[name]
        return f"// Unicode {version}. {why}\n"

    def emit_ranges(name):
        body = ",".join(f"{{0x{a:X},0x{b:X}}}" for a, b in ranges(tables[name][0]))
        return comment(name) + f"inline constexpr code_point_range {name}[] = {{{body}}};\n"

    def emit_map(name):
        mapping = tables[name][0]
        width = max(len(s) for s in mapping.values())
        items = ",".join(f"{{0x{c:X},{len(s)},{seq(s)}}}" for c, s in sorted(mapping.items()))
        return comment(name) + f"inline constexpr code_point_mapping<{width}> {name}[] = {{{items}}};\n"

    versions = sorted(set(ucd.unicode_versions().values()), key=lambda v: tuple(map(int, v.split("."))))
    versions = ", ".join(versions[:-1]) + " and " + versions[-1]
    return "".join([
        "#pragma once\n",
        "// GENERATED by scripts/unicode/gen_tables.py from the Unicode Character Database "
        f"{versions}: each table in the Unicode version of the HF tokenizers {REFERENCE} "
        "dependency that uses it (scripts/unicode/README.md). Do not edit.\n\n",
        "#include <array>\n#include <cstdint>\n\nnamespace shopml::tokenize::unicode_data {\n\n",
        "struct code_point_range { char32_t first, last; };\n",
        "template <std::size_t N> struct code_point_mapping { char32_t from; std::uint8_t length; std::array<char32_t, N> to; };\n",
        "struct combining_class { char32_t cp; std::uint8_t ccc; };\n",
        "struct composition { char32_t first, second, composite; };\n\n",
        *(emit_ranges(name) for name in ("clean_text_dropped", "clean_text_space", "whitespace", "bert_punctuation",
                                         "nonspacing_mark", "combining_mark", "regex_letter", "regex_number",
                                         "regex_space", "regex_word")),
        emit_map("lowercase"),
        emit_map("canonical_decomposition"),
        comment("combining_classes") + "inline constexpr combining_class combining_classes[] = {"
        + ",".join(f"{{0x{c:X},{v}}}" for c, v in sorted(tables["combining_classes"][0].items())) + "};\n",
        comment("compositions") + "inline constexpr composition compositions[] = {"
        + ",".join(f"{{0x{a:X},0x{b:X},0x{c:X}}}" for (a, b), c in sorted(tables["compositions"][0].items())) + "};\n",
        "\n}  // namespace shopml::tokenize::unicode_data\n",
    ])


def check(tables):
    """Prints, per table, the code points on which the UCD-derived table and HF disagree."""
    import tokenizers

    import probe_hf

    assert tokenizers.__version__ == REFERENCE, tokenizers.__version__
    ccc = tables["combining_classes"][0]
    ladder = {}
    for c, v in sorted(ccc.items()):
        if c not in tables["canonical_decomposition"][0]:
            ladder.setdefault(v, c)
    probed = probe_hf.probe(dict(sorted(ladder.items())))
    # HF can only show the classes of chars NFD leaves alone: those are the ones compared.
    stable = {c: v for c, v in ccc.items() if c not in tables["canonical_decomposition"][0]}
    derived = {name: data for name, (data, _, _) in tables.items()}
    derived["combining_classes"] = stable
    derived["regex_word (single_word)"] = derived["regex_word"]
    derived["regex_space (lstrip)"] = derived["regex_space"]
    failed = False
    for name, hf in probed.items():
        mine = derived[name]
        if isinstance(mine, dict):
            mine = {k: tuple(v) if isinstance(v, list) else v for k, v in mine.items()}
            differ = sorted(k for k in mine.keys() | hf.keys() if mine.get(k) != hf.get(k))
        else:
            differ = sorted(mine ^ hf)
        failed |= bool(differ)
        shown = " ".join(f"U+{k:04X}" if isinstance(k, int) else str(k) for k in differ[:8])
        print(f"{name:28} {len(differ):6} code points differ {shown}")
    return not failed


def main():
    tables = ucd_tables()
    if "--check" in sys.argv[1:]:
        sys.exit(0 if check(tables) else 1)
    OUT.write_text(emit(tables))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
