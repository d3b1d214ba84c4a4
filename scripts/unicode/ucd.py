"""The Unicode Character Database of one Unicode version, from the pins in requirements.txt.

Two kinds of source, fetched once into .cache/unicode/ with pip:
  * `compiled_ucd`: a unicodedata2 sdist read as data. CPython's makeunicodedata.py compiles
    UnicodeData.txt, SpecialCasing.txt and CompositionExclusions.txt into the C arrays of
    unicodedata_db.h and unicodetype_db.h; this class looks code points up in those arrays the way
    CPython's unicodedata.c and unicodectype.c do. Nothing is built, so the 2015/2016 releases
    (Unicode 8.0, 9.0), which no longer compile against a current Python, work too.
  * `property_sets`: a regex wheel asked which code points a property class matches, in a
    subprocess of its own (two versions of one module cannot share an interpreter).
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tarfile

HERE = pathlib.Path(__file__).resolve().parent
CACHE = HERE.parents[1] / ".cache/unicode"
CODE_POINTS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def unicode_versions():
    """requirements.txt as {pin: Unicode version}."""
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return {m[1]: m[2] for m in (re.match(r"(\S+==\S+)\s+# Unicode ([\d.]+):", line) for line in lines) if m}


def _pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "-q", *map(str, args)], check=True, stdout=sys.stderr)


def _c_array(text, name):
    """The elements of `name[] = {...};` in generated C: ints, int tuples or strings."""
    body = re.search(rf"\b{name}\[\] = \{{(.*?)\n\}};", text, re.S)[1]
    if "{" in body:
        return [tuple(int(x) for x in row.split(",")) for row in re.findall(r"\{([^{}]*)\}", body)]
    if '"' in body:
        return re.findall(r'"([^"]*)"', body)
    return [int(x) for x in re.findall(r"-?\d+", body)]


def _c_define(text, name):
    return re.search(rf'#define {name} "?([\w.]+)"?', text)[1]


def _two_level(index1, index2, shift, c):
    return index2[(index1[c >> shift] << shift) + (c & ((1 << shift) - 1))]


class compiled_ucd:
    """One unicodedata2 release's UCD: general category, canonical combining class, decomposition,
    canonical compositions and full lowercase mapping."""

    def __init__(self, pin):
        assert pin in unicode_versions(), f"{pin} is not pinned in requirements.txt"
        name, version = pin.split("==")
        sdist = CACHE / f"{name}-{version}.tar.gz"
        if not sdist.exists():
            _pip("download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation", "-d", CACHE, pin)
        with tarfile.open(sdist) as tar:
            def header(file):  # 9.0.0.post4 has py2/ and py3/ copies of the same data
                member = next(m for m in tar.getmembers() if m.name.endswith("/" + file) and "/py2/" not in m.name)
                return tar.extractfile(member).read().decode()
            db, types = header("unicodedata_db.h"), header("unicodetype_db.h")
        self.version = _c_define(db, "UNIDATA_VERSION")
        assert self.version.startswith(unicode_versions()[pin]), (pin, self.version)
        self._records = _c_array(db, "_PyUnicode_Database_Records")
        self._categories = _c_array(db, "_PyUnicode_CategoryNames")
        self._index = (_c_array(db, "index1"), _c_array(db, "index2"), int(_c_define(db, "SHIFT")))
        self._decomp_data = _c_array(db, "decomp_data")
        self._decomp_prefix = _c_array(db, "decomp_prefix")
        self._decomp_index = (_c_array(db, "decomp_index1"), _c_array(db, "decomp_index2"), int(_c_define(db, "DECOMP_SHIFT")))
        self._db = db
        self._type_records = _c_array(types, "_PyUnicode_TypeRecords")
        self._extended_case = _c_array(types, "_PyUnicode_ExtendedCase")
        self._type_index = (_c_array(types, "index1"), _c_array(types, "index2"), int(_c_define(types, "SHIFT")))

    def category(self, c):
        return self._categories[self._records[_two_level(*self._index, c)][0]]

    def combining(self, c):
        return self._records[_two_level(*self._index, c)][1]

    def decomposition(self, c):
        """(tag, code points): tag is '' for a canonical mapping, '<compat>' etc. otherwise."""
        i = _two_level(*self._decomp_index, c)
        head = self._decomp_data[i]
        return self._decomp_prefix[head & 255], list(self._decomp_data[i + 1 : i + 1 + (head >> 8)])

    def canonical_decomposition(self, c):
        """Full canonical decomposition (NFD) of one code point; Hangul syllables excluded."""
        tag, mapping = self.decomposition(c)
        if tag or not mapping:
            return [c]
        out = [x for m in mapping for x in self.canonical_decomposition(m)]
        # Canonical ordering: a stable sort by combining class within each run of non-starters.
        i = 0
        while i < len(out):
            j = i
            while j < len(out) and self.combining(out[j]):
                j += 1
            out[i:j] = sorted(out[i:j], key=self.combining)
            i = j + 1  # past the run and the starter that ends it
        return out

    def compositions(self):
        """Canonical composition pairs {(first, second): composite}, as NFC applies them
        (exclusions and non-starter decompositions left out, Hangul algorithmic)."""
        def reindex(name):
            out = {}
            for start, count, index in _c_array(self._db, name):
                out.update({start + d: index + d for d in range(count + 1) if start})
            return out
        total_last, shift = int(_c_define(self._db, "TOTAL_LAST")), int(_c_define(self._db, "COMP_SHIFT"))
        comp_index, comp_data = _c_array(self._db, "comp_index"), _c_array(self._db, "comp_data")
        pairs = {}
        for first, f in reindex("nfc_first").items():
            for second, s in reindex("nfc_last").items():
                composite = _two_level(comp_index, comp_data, shift, f * total_last + s)
                if composite:
                    pairs[(first, second)] = composite
        return pairs

    def lowercase(self, c):
        """Full lowercase mapping: UnicodeData's simple mapping unless SpecialCasing has an
        unconditional one."""
        _, lower, _, _, _, flags = self._type_records[_two_level(*self._type_index, c)]
        if flags & 0x4000:  # EXTENDED_CASE_MASK
            return list(self._extended_case[(lower & 0xFFFF) : (lower & 0xFFFF) + (lower >> 24)])
        return [c + lower]


_ASK = """
import json, sys, regex
assert regex.__file__.startswith(sys.argv[1]), regex.__file__  # the pinned copy, not the venv's
classes = {name: regex.compile(pattern) for name, pattern in json.loads(sys.argv[2]).items()}
cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
print(json.dumps({name: [c for c in cps if r.match(chr(c))] for name, r in classes.items()}))
"""


def property_sets(pin, classes):
    """{name: set of code points} for {name: regex class}, asked of the pinned regex release."""
    assert pin in unicode_versions(), f"{pin} is not pinned in requirements.txt"
    target = CACHE / pin.replace("==", "-")
    if not target.exists():
        _pip("install", "--no-deps", "--only-binary", ":all:", "--target", target, pin)
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", _ASK, str(target), json.dumps(classes)],
                         env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return {name: set(cps) for name, cps in json.loads(out).items()}
