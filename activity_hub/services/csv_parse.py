"""Reading an activity CSV as a stream: encoding checks, delimiter sniffing, header matching, row validation
against `services/rows.py`, and the natural key that makes re-imports idempotent.

Nothing here touches the database or Flask, and nothing holds the whole file's rows in memory: rows are
read from a binary stream and handed on in chunks of at most 10,000 (`iter_chunks`) or one at a time
(`iter_rows`). The only per-file state that grows with the file is `OccurrenceCounter`, one dict entry per
distinct row.
"""

import codecs
import csv
import heapq
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from hashlib import blake2b
from operator import attrgetter, itemgetter
from typing import BinaryIO, NamedTuple

from .rows import COLUMN_NAMES, COLUMNS, CleanRow, RowChecker, RowError

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
csv.field_size_limit(1024 * 1024)
iso_day = lru_cache(maxsize=4096)(date.isoformat)  # a file repeats the same few days


class CsvFileError(ValueError):
    """The file as a whole cannot be read; the message says why, in words a person can act on."""


@dataclass
class Layout:
    """Where each known column sits in the file, and what else the header named."""

    delimiter: str
    positions: dict[str, int]
    extra: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        notes = []
        if self.extra:
            names = ", ".join(f'"{n}"' for n in self.extra)
            notes.append(f"Ignored extra column{'s' if len(self.extra) > 1 else ''}: {names}.")
        for name in self.repeated:
            notes.append(f'The column "{name}" appears more than once; the first one is used.')
        if self.delimiter == ";":
            notes.append("Read as a semicolon-separated file.")
        elif self.delimiter == "\t":
            notes.append("Read as a tab-separated file.")
        return notes


@dataclass(slots=True)
class ParsedRow:
    """One data row: its first line in the file, then either a clean row and its key, or the row's errors
    and its raw values (kept for invalid rows only, for the invalid-rows download)."""

    line: int
    raw: dict | None
    clean: CleanRow | None
    errors: Sequence[RowError] = ()
    key: str | None = None


def check_head(head: bytes) -> None:
    """Reject files that are clearly not UTF-8 CSV text, from their first bytes."""
    if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise CsvFileError("The file is empty. Download the template to see what a file should contain.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvFileError("The file is saved as UTF-16 text. Save it again as “CSV UTF-8” and upload that.")
    if b"\x00" in head:
        raise CsvFileError("This is not a text file (it contains binary data). Upload a .csv file saved as UTF-8.")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _not_utf8(head[: exc.start].count(b"\n") + 1) from None


def sniff_delimiter(head: bytes) -> str:
    """Comma unless the header line has more semicolons or tabs (spreadsheet locales write `;`)."""
    first_line = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def read_layout(header: list[str], delimiter: str) -> Layout:
    """Match header names case-insensitively and trimmed; a missing required column rejects the file."""
    names = [h.strip().lstrip("\ufeff").strip().lower() for h in header]
    positions: dict[str, int] = {}
    extra, repeated = [], []
    for index, name in enumerate(names):
        if name in COLUMN_NAMES:
            if name in positions:
                repeated.append(name)
            else:
                positions[name] = index
        elif name:
            extra.append(header[index].strip())
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        quoted = " and ".join(f'"{m}"' for m in missing)
        found = ", ".join(f'"{n}"' for n in names if n) or "nothing"
        raise CsvFileError(
            f"The header has no {quoted} column{'s' if len(missing) > 1 else ''}. The first line must name the "
            f"columns {', '.join(COLUMN_NAMES)} (title may be left out); this file's first line names {found}."
        )
    return Layout(delimiter, positions, extra, repeated)


class OccurrenceCounter:
    """Numbers identical rows within one file (1, 2, ...).

    The only state that grows with the file: a dict from the first 64 bits of each distinct row's digest to
    how often it came so far, about 85 bytes per distinct row (85 MB for a 1,000,000-row file). A table
    of flat arrays would take a third of that, but probing it in Python cost a fifth of the parse.
    """

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}

    def key_for(self, day: str, service: str, minutes: int, title: str) -> str:
        """A normalised row's natural key (`external_id`), counting it as one more occurrence:
        `<day>:<digest>-<occurrence>`, where the digest is BLAKE2b-128 of the day (YYYY-MM-DD), service,
        minutes and case-folded title joined by U+001F."""
        digest = blake2b(f"{day}\x1f{service}\x1f{minutes}\x1f{title.casefold()}".encode(), digest_size=16).digest()
        counts, seen = self._counts, int.from_bytes(digest[:8])
        count = counts[seen] = counts.get(seen, 0) + 1
        return f"{day}:{digest.hex()}-{count}"


class Chunk(NamedTuple):
    """Up to `size` consecutive data rows of a file.

    `valid` holds each valid row ready to stage, `(n, service, day, minutes, title, key)`: `n` numbers
    the file's valid rows 1, 2, ..., `day` is YYYY-MM-DD text and `key` is None when not keyed. `lines`
    holds each valid row's line in the file; `invalid` the invalid rows, with their raw values and errors.
    """

    rows: int
    valid: list[tuple]
    lines: list[int]
    invalid: list[ParsedRow]


def iter_chunks(open_stream: Callable[[], BinaryIO], today: date, max_rows: int | None = None,
                layout_out: list | None = None, keyed: bool = True, size: int = 10_000) -> Iterator[Chunk]:
    """Read, validate and (unless `keyed` is False) key every data row of the file, `size` rows at a time.
    Raises CsvFileError for whole-file problems.

    The importer's hot loop: valid rows become plain tuples, with no object per row beyond them.
    `open_stream` is called twice: once for the first bytes (encoding and delimiter), once to parse.
    """
    with open_stream() as probe:
        head = probe.read(SNIFF_BYTES)
    check_head(head)
    delimiter = sniff_delimiter(head)
    limit = max_rows if max_rows is not None else float("inf")
    with open_stream() as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        layout = None
        key_for = OccurrenceCounter().key_for if keyed else None
        check = RowChecker(today).check
        count = n = last_line = 0
        valid: list[tuple] = []
        lines: list[int] = []
        invalid: list[ParsedRow] = []
        try:
            for values in reader:
                line, last_line = last_line + 1, reader.line_num
                if not "".join(values).strip():
                    continue
                if layout is None:
                    layout = read_layout(values, delimiter)
                    if layout_out is not None:
                        layout_out.append(layout)
                    pick, width = _picker(layout)
                    continue
                count += 1
                if count > limit:
                    raise CsvFileError(
                        f"The file has more than {max_rows:,} rows, the most one upload may hold. "
                        "Split it into smaller files and upload them one after another."
                    )
                if len(values) < width:
                    values += [""] * (width - len(values))
                result = check(*pick(values))
                if type(result) is CleanRow:
                    n += 1
                    day, service, minutes, title = result
                    day = iso_day(day)
                    valid.append((n, service, day, minutes, title,
                                  key_for(day, service, minutes, title) if keyed else None))
                    lines.append(line)
                else:
                    invalid.append(ParsedRow(line, dict(zip(COLUMN_NAMES, pick(values), strict=True)), None, result))
                if count % size == 0:
                    yield Chunk(size, valid, lines, invalid)
                    valid, lines, invalid = [], [], []
        except UnicodeDecodeError:
            raise _not_utf8(_first_bad_line(open_stream)) from None
        except csv.Error as exc:
            raise CsvFileError(f"Line {last_line + 1} cannot be read as CSV ({exc}). Check its quotes.") from None
    if layout is None:
        raise CsvFileError("The file is empty. Download the template to see what a file should contain.")
    if count == 0:
        raise CsvFileError("The file has a header but no rows. Add one row per session under the header.")
    if count % size:
        yield Chunk(count % size, valid, lines, invalid)


def iter_rows(open_stream: Callable[[], BinaryIO], today: date, max_rows: int | None = None,
              layout_out: list | None = None, keyed: bool = True) -> Iterator[ParsedRow]:
    """Every data row of the file as a `ParsedRow`, in file order (the invalid-rows download, tests)."""
    for chunk in iter_chunks(open_stream, today, max_rows, layout_out, keyed):
        clean = (ParsedRow(line, None, CleanRow(date.fromisoformat(day), service, minutes, title), (), key)
                 for line, (_, service, day, minutes, title, key) in zip(chunk.lines, chunk.valid, strict=True))
        yield from heapq.merge(clean, chunk.invalid, key=attrgetter("line"))


def _picker(layout: Layout) -> tuple[Callable[[list[str]], tuple], int]:
    """A function from a row's values to its (date, service, minutes, title) texts, the order of
    `COLUMN_NAMES` and of `RowChecker.check`, and the width shorter rows are padded to."""
    at = layout.positions
    width = max(at.values()) + 1
    if "title" in at:
        return itemgetter(at["date"], at["service"], at["minutes"], at["title"]), width
    required = itemgetter(at["date"], at["service"], at["minutes"])
    return (lambda values: (*required(values), "")), width


def _first_bad_line(open_stream: Callable[[], BinaryIO]) -> int:
    """The physical line holding the first byte that is not UTF-8 (a newline byte never sits inside a
    UTF-8 character, so lines can be checked one by one); only called once decoding has failed."""
    with open_stream() as binary:
        for number, line in enumerate(binary, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def _not_utf8(line: int) -> CsvFileError:
    return CsvFileError(
        f"The file is not UTF-8 text (line {line} has bytes that are not UTF-8). "
        "In your spreadsheet choose “Save as… CSV UTF-8” and upload that file."
    )

