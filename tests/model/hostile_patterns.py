"""Hostile pattern sets: each must be refused, or admitted and matched fast.

First the set a hostile client sent, which the old probe admitted and which then matched a few hundred
characters a second; then its families, spelled with escapes, classes and flags a probe built from
letters and digits never saw. `ALPHABETS` gives, per set, the characters that keep its patterns'
threads alive (class members, escapes decoded): random texts over them are its worst case.
"""

# The set from the issue: 400 counted classes that overlap their own first character.
BANG = [f"![!?]{{{n}}}%" for n in range(1, 401)]
BANG_ESCAPED = [f"\\x21[\\x21\\x3f]{{{n}}}\\x25" for n in range(1, 401)]
BANG_UNICODE_ESCAPED = [f"\\x{{21}}[\\x{{21}}?]{{{n}}}%" for n in range(1, 401)]

HOSTILE_SETS: dict[str, list[str]] = {
    "bang": BANG,
    "bang_escaped": BANG_ESCAPED,
    "bang_unicode_escaped": BANG_UNICODE_ESCAPED,
    "counted_class": [f"a[ab]{{{n}}}c" for n in range(50, 450)],
    "counted_class_case_insensitive": [f"(?i)a[ab]{{{n}}}c" for n in range(1, 201)],
    "counted_dot": [f"a.{{{n}}}b" for n in range(1, 101)],
    "counted_cjk": [f"一[一二]{{{n}}}三" for n in range(1, 201)],
    "counted_cjk_range": [f"\\x{{4e00}}[\\x{{4e00}}-\\x{{9fff}}]{{{n}}}!" for n in range(1, 101)],
    "unicode_class": [r"[\p{L}]{1000}"],
    "unicode_class_small": [f"\\p{{Han}}[\\p{{Han}}\\p{{P}}]{{{n}}}" for n in range(1, 61)],
    "nested_classes": [f"[[:alpha:][:digit:]][[:alpha:]\\d_]{{{n}}}x" for n in range(1, 151)],
    "negated_class": [f"a[^c]{{{n}}}c" for n in range(1, 201)],
    "alternation_counted": [f"(x|xy|y){{{n}}}z" for n in range(1, 101)],
    "nested_counted": [f"((a|b){{{n}}}){{{n}}}c" for n in range(1, 31)],
    "written_out": ["!" + "[!?]" * 490 + "%", *(f"!{'[!?]' * n}%" for n in range(1, 60))],
    "large_range_case_insensitive": [f"(?i)[a-zа-я]{{{n}}}$" for n in range(1, 101)],
    "backtracking": [r"(a+)+$", r"(a|aa)*b", r"(a*)*b", r"(x+x+)+y", r"^(\w+\s?)*$"],
}

ALPHABETS: dict[str, str] = {
    "bang": "!?",
    "bang_escaped": "!?",
    "bang_unicode_escaped": "!?",
    "counted_class": "ab",
    "counted_class_case_insensitive": "aAbB",
    "counted_dot": "ab",
    "counted_cjk": "一二",
    "counted_cjk_range": "一二三四",
    "unicode_class": "ab中",
    "unicode_class_small": "中，国",
    "nested_classes": "ab1_",
    "negated_class": "ab",
    "alternation_counted": "xy",
    "nested_counted": "ab",
    "written_out": "!?",
    "large_range_case_insensitive": "aBяЖ",
    "backtracking": "ax ",
}

# Classic backtracking traps: neither RE2 nor Hyperscan needs time or space for them: admitted.
BACKTRACKING = HOSTILE_SETS["backtracking"]
