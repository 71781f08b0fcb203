"""The elements of a JSON array read as its bytes arrive, one at a time: a long answer (a stock
report of a whole account, one plain array without paging) is never held whole, neither as
text nor as parsed objects.

``iter_json_array(chunks)`` takes an iterable of bytes (``response.iter_content``) and yields each
element of the top-level array, parsed with the standard ``json`` decoder. Anything else than
one array (an object, text after the closing bracket, a cut-off answer, bad JSON) raises
``MalformedJson`` (a ValueError) with what was found and where, never the content itself.
"""

import codecs
import json

__all__ = ["MalformedJson", "iter_json_array"]

_WHITESPACE = " \t\r\n"
# Text already parsed is dropped from the buffer once this much of it has piled up.
_COMPACT_AT = 1 << 16


class MalformedJson(ValueError):
    """The answer is not one well-formed JSON array."""


class _Reader:
    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buffer = ""
        self.pos = 0
        self.offset = 0  # characters dropped from the buffer's start
        self.exhausted = False

    def more(self):
        """Read at least one more character; False at the end of the input."""
        while not self.exhausted:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.exhausted = True
                tail = self._decoder.decode(b"", final=True)
                self.buffer += tail
                return bool(tail)
            text = self._decoder.decode(chunk)
            if text:
                if self.pos >= _COMPACT_AT:
                    self.offset += self.pos
                    self.buffer, self.pos = self.buffer[self.pos:], 0
                self.buffer += text
                return True
        return False

    def skip_whitespace(self):
        """The next character that is not whitespace ('' at the end of the input)."""
        while True:
            buffer, pos = self.buffer, self.pos
            while pos < len(buffer) and buffer[pos] in _WHITESPACE:
                pos += 1
            self.pos = pos
            if pos < len(buffer):
                return buffer[pos]
            if not self.more():
                return ""

    def where(self):
        return self.offset + self.pos


def iter_json_array(chunks):
    """Yield the elements of the JSON array whose bytes ``chunks`` gives (see the module)."""
    reader = _Reader(chunks)
    decoder = json.JSONDecoder()
    try:
        first = reader.skip_whitespace()
    except UnicodeDecodeError:
        raise MalformedJson("the answer is not UTF-8 text") from None
    if first != "[":
        found = "nothing" if not first else "an object" if first == "{" else f"{first!r}"
        raise MalformedJson(f"expected a JSON array, found {found}")
    reader.pos += 1
    expect_element = True  # after '[' or ','
    empty = True
    while True:
        try:
            char = reader.skip_whitespace()
        except UnicodeDecodeError:
            raise MalformedJson(f"the answer is not UTF-8 text (at {reader.where()})") from None
        if not char:
            raise MalformedJson(f"the array is cut off after {reader.where()} characters")
        if char == "]" and (empty or not expect_element):
            reader.pos += 1
            break
        if not expect_element:
            if char != ",":
                raise MalformedJson(f"expected ',' or ']' at character {reader.where()}")
            reader.pos += 1
            expect_element = True
            continue
        value, end = _decode_element(reader, decoder)
        reader.pos = end
        expect_element = empty = False
        yield value
    try:
        rest = reader.skip_whitespace()
    except UnicodeDecodeError:
        rest = "?"
    if rest:
        raise MalformedJson(f"text after the array at character {reader.where()}")


def _decode_element(reader, decoder):
    """(element, end) of the element at ``reader.pos``, reading more input while it is cut."""
    while True:
        try:
            value, end = decoder.raw_decode(reader.buffer, reader.pos)
        except json.JSONDecodeError as exc:
            if reader.more():
                continue
            raise MalformedJson(
                f"malformed JSON at character {reader.offset + exc.pos} ({exc.msg})"
            ) from None
        # A number that ends the buffer may go on in the next chunk: be sure it ended.
        if end == len(reader.buffer) and not reader.exhausted and reader.more():
            continue
        return value, end
