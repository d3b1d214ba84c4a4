"""The tables of gen_tables.py as HF tokenizers itself behaves, asked per code point.

Only for `gen_tables.py --check`: each function returns what a table of unicode_data.hpp has to
hold, found by calling the normalizer, pre-tokenizer or added-token matcher that uses it (one call
per code point, or one call on a long string). Sets are code points; mappings are tuples.
"""
from tokenizers import AddedToken, Regex, Tokenizer, models
from tokenizers import normalizers as N
from tokenizers import pre_tokenizers as P

from ucd import CODE_POINTS

HANGUL = range(0xAC00, 0xD7A4)


def _per_char(fn):
    return {c: fn(chr(c)) for c in CODE_POINTS}


def _regex_class(pattern):
    """Code points an oniguruma class matches, from one Split call on a string of all of them."""
    split = P.Split(Regex(pattern), "isolated")
    alone = P.Split(Regex(f"^{pattern}$"), "removed")
    pieces = split.pre_tokenize_str("".join(chr(c) for c in CODE_POINTS))
    return {ord(p) for p, (start, end) in pieces if end - start == 1 and alone.pre_tokenize_str(p) == []}


def _nfd_swaps(pairs):
    """For each (x, y): does NFD put y before x? Each pair sits after an 'a', so runs stay apart."""
    text = "".join("a" + chr(x) + chr(y) for x, y in pairs)
    out = N.NFD().normalize_str(text)
    assert len(out) == len(text)
    return [x != y and out[3 * i + 1] == chr(y) for i, (x, y) in enumerate(pairs)]


def _added_token_ab(**options):
    """A tokenizer whose only token besides [UNK] is the added token "ab" (id 1)."""
    t = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    t.add_tokens([AddedToken("ab", normalized=False, **options)])
    return t


def probe(ladder):
    tables = {}
    cleaned = _per_char(N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False).normalize_str)
    tables["clean_text_dropped"] = {c for c, s in cleaned.items() if s == ""}
    tables["clean_text_space"] = {c for c, s in cleaned.items() if s == " " and c != 0x20}

    bert = P.BertPreTokenizer()
    tables["whitespace"], tables["bert_punctuation"] = set(), set()
    for c in CODE_POINTS:
        pieces = [p for p, _ in bert.pre_tokenize_str("x" + chr(c) + "x")]
        if pieces == ["x", "x"]:
            tables["whitespace"].add(c)
        elif pieces == ["x", chr(c), "x"]:
            tables["bert_punctuation"].add(c)

    # BertNormalizer strips Mn after its NFD, so a char goes when all of its NFD is Mn;
    # StripAccents drops every combining mark (Mn, Mc, Me) as it stands.
    bert_strip = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    tables["nonspacing_mark"] = {c for c in CODE_POINTS if bert_strip.normalize_str(chr(c)) == ""}
    strip = N.StripAccents()
    tables["combining_mark"] = {c for c in CODE_POINTS if strip.normalize_str(chr(c)) == ""}

    tables["regex_letter"] = _regex_class(r"\p{L}")
    tables["regex_number"] = _regex_class(r"\p{N}")
    tables["regex_space"] = _regex_class(r"\s")
    # \w as the Whitespace pre-tokenizer (\w+|[^\w\s]+) sees it: a lone \w between two
    # punctuation chars is its own piece (probing \w alone differs for U+200C/U+200D).
    ws = P.Whitespace()
    tables["regex_word"] = {c for c in CODE_POINTS if len(ws.pre_tokenize_str("!" + chr(c) + "!")) == 3}
    # Added tokens use the Rust regex crate's \w and \s, the same classes: a word char just
    # before a single_word token stops the match; lstrip takes the spaces before the token.
    encodings = _added_token_ab(single_word=True).encode_batch([chr(c) + "ab" for c in CODE_POINTS], add_special_tokens=False)
    tables["regex_word (single_word)"] = {c for c, e in zip(CODE_POINTS, encodings) if 1 not in e.ids}
    encodings = _added_token_ab(lstrip=True).encode_batch(["x" + chr(c) + "ab" for c in CODE_POINTS], add_special_tokens=False)
    tables["regex_space (lstrip)"] = {c for c, e in zip(CODE_POINTS, encodings) if e.offsets[e.ids.index(1)][0] == 1}

    lowered = _per_char(N.Lowercase().normalize_str)
    tables["lowercase"] = {c: tuple(map(ord, s)) for c, s in lowered.items() if s != chr(c)}

    nfd = _per_char(N.NFD().normalize_str)
    decomposed = {c: tuple(map(ord, s)) for c, s in nfd.items() if s != chr(c) and c not in HANGUL}
    tables["canonical_decomposition"] = decomposed

    # Primary composites: NFC gives them back from their NFD; the pair is (NFC of all but the
    # last char, last char).
    nfc = N.NFC()
    compositions = {}
    for c, d in decomposed.items():
        if nfc.normalize_str("".join(map(chr, d))) == chr(c):
            first = nfc.normalize_str("".join(map(chr, d[:-1])))
            if len(first) == 1:
                compositions[(ord(first), d[-1])] = c
    tables["compositions"] = compositions

    # Combining classes of the code points NFD leaves alone (only those reach the reordering):
    # non-zero when the char swaps with U+0334 (class 1) after it or with U+0301 (230) before it;
    # the value is then the largest class of `ladder` ({class: a mark of it}) it stays behind.
    stable = [c for c in CODE_POINTS if c not in decomposed and c not in HANGUL]
    after, before = _nfd_swaps([(c, 0x334) for c in stable]), _nfd_swaps([(0x301, c) for c in stable])
    nonzero = [c for c, a, b in zip(stable, after, before) if a or b]
    swapped = iter(_nfd_swaps([(mark, c) for c in nonzero for mark in ladder.values()]))
    tables["combining_classes"] = {c: max((ccc for ccc in ladder if not next(swapped)), default=0) for c in nonzero}
    return tables
