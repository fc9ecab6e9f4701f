"""The export decoder reads every line as the plain line-by-line definition does."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from labinterp.io.readers.csv_fields import decode, decode_keeping_utf8


def plain_decode(data: bytes) -> str:
    """Decode by the definition: BOM dropped; each line UTF-8 if valid, else cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out = []
    for line in data.splitlines(keepends=True):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors="replace"))
    return "".join(out)


#: Pieces a mixed export is made of: ASCII, characters in UTF-8 and in cp1252, the C1
#: range, and byte sequences that are near UTF-8 but not valid (overlong, surrogate,
#: beyond U+10FFFF, cut short, continuation bytes alone).
_CHARS = ["a", ";", "0,82", '"', " ", "µ", "ø", "Å", "€", "–", "\u00a0", "中", "😀"]
PIECES = st.one_of(
    st.sampled_from(_CHARS).map(lambda c: c.encode("utf-8")),
    st.sampled_from(_CHARS[:11]).map(lambda c: c.encode("cp1252")),
    st.integers(0x80, 0x9F).map(lambda b: bytes([b])),
    st.integers(0x80, 0xFF).map(lambda b: bytes([b])),
    st.sampled_from(
        [
            b"\xc0\x80",
            b"\xc1\xbf",
            b"\xe0\x80\x80",
            b"\xe0\x9f\xbf",
            b"\xed\xa0\x80",
            b"\xed\x9f\xbf",
            b"\xf0\x8f\xbf\xbf",
            b"\xf0\x90\x80\x80",
            b"\xf4\x8f\xbf\xbf",
            b"\xf4\x90\x80\x80",
            b"\xf5\x80\x80\x80",
            b"\xe2\x82",
            b"\xf0\x9f\x98",
            b"\xc3",
            b"\xbf\xbf",
        ]
    ),
    st.sampled_from([b"\n", b"\r\n", b"\r", b"\r\r\n", b"\n\r"]),
)
EXPORTS = st.tuples(st.sampled_from([b"", b"\xef\xbb\xbf"]), st.lists(PIECES, max_size=60)).map(
    lambda parts: parts[0] + b"".join(parts[1])
)


@settings(max_examples=2000)
@given(st.one_of(EXPORTS, st.binary(max_size=80)))
@example(b"")
@example(b"\xef\xbb\xbf")
@example(b"\xef\xbb\xbfKalium;\xb5mol/L\r\nNatrium;mmol/L\r")
@example("Pasient;Kjønn\n".encode() + "1;K\u00f8\n".encode("cp1252") + "2;ø\r".encode())
def test_decoder_reads_each_line_as_the_plain_definition(data: bytes) -> None:
    """Valid UTF-8 lines stay UTF-8, others are cp1252 (replaced), the BOM is dropped."""
    text, utf8 = decode_keeping_utf8(data)
    assert text == plain_decode(data)
    assert utf8 in (None, text.encode("utf-8"))
    assert decode(data) == text


def test_a_wholly_latin1_file_and_a_mixed_file_of_many_lines() -> None:
    """Whole files of one kind and runs of each kind, beyond the sizes generated above."""
    latin = "Pasient-ID;Kjønn;Enhet\n" + "1;K;µmol/L\r\n" * 5000
    mixed = b"".join(
        (f"{i};ø;µmol/L\n".encode() if i % 7 < 3 else f"{i};å;µ\n".encode("cp1252"))
        for i in range(5000)
    )
    for data in (latin.encode("cp1252"), mixed, mixed + b"\xef\xbb\xbf\x81"):
        assert decode_keeping_utf8(data)[0] == plain_decode(data)
