"""The printable FIR: a PDF in the layout of the standard Indian FIR form
(Form IF-1: "First Information Report under section 173 BNSS"), made with fpdf2.

Numbered items follow the printed form: district, police station, year, FIR
number and date; acts and sections; occurrence; type of information; place;
complainant; accused; delay; property; contents; action taken and the
officer; signatures. Text is set in DejaVu Sans (Latin, with the Devanagari
Lohit font as a fallback for Hindi names) when the system fonts are present,
else in the PDF core font with unsupported characters replaced.

Only the renderer's child processes import this module (adapters/pdf_renderer.py):
fpdf and what it loads (numpy, fontTools) take about 47 MiB, which fir itself does not need.

An FIR whose text is all Latin (and Devanagari, which Lohit sets) is set in a cut of DejaVu
Sans that holds only :data:`LATIN`'s 370-390 glyphs of its 6,000: fpdf parses the whole font
file for each document and subsets it again when it writes the PDF, and with the whole fonts
that took 230-350 ms of CPU a document against 90-130 ms with the cut (the same text and
widths, so the same lines). The cut is made once per machine and font file, in
:data:`CUT_DIR`; an FIR with any other character gets the whole fonts.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from fontTools import subset, ttLib
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from afirgen_fir.domain.model import ComplaintSource, Date, Fir, FirStatus, Person

FONT_DIR = Path("/usr/share/fonts/truetype")
IST = timezone(timedelta(hours=5, minutes=30), "IST")
LABEL_WIDTH = 62.0
LINE = 5.5
BLANK = "-"


@dataclass(frozen=True)
class Fonts:
    """Where the renderer finds its fonts (``None``: PDF core fonts)."""

    regular: Path | None
    bold: Path | None
    devanagari: Path | None

    @classmethod
    def system(cls, root: Path = FONT_DIR) -> Fonts:
        """DejaVu Sans and Lohit Devanagari from the Debian font packages, if installed."""

        def found(path: Path) -> Path | None:
            return path if path.is_file() else None

        return cls(
            found(root / "dejavu" / "DejaVuSans.ttf"),
            found(root / "dejavu" / "DejaVuSans-Bold.ttf"),
            found(root / "lohit-devanagari" / "Lohit-Devanagari.ttf"),
        )


LATIN = ((0x20, 0x7E), (0xA0, 0x17F), (0x2010, 0x2027), (0x20B9, 0x20B9))
"""What the cut of the Latin fonts holds: ASCII, Latin-1 and Latin Extended-A, dashes, quotes,
bullets and ellipsis, and the rupee sign."""
DEVANAGARI = (0x0900, 0x097F)
CUT_DIR = Path(tempfile.gettempdir()) / f"afirgen-fonts-{os.geteuid()}"
"""Where the cuts of the fonts are kept (fir's /tmp in Kubernetes is a writable emptyDir)."""
CUT_VERSION = 1
"""Part of a cut's file name: a change to :data:`LATIN` or to how a cut is made needs a new one."""


def _characters(fir: Fir) -> set[str]:
    """The characters of every text field, nested ones included, as written. Not from ``repr``:
    it escapes the characters Python deems unprintable (U+2003 EM SPACE, U+200B ZERO WIDTH
    SPACE), which would then pass for ASCII. JSON escapes only control characters, which fir
    refuses but for line breaks and tabs, and those are not drawn."""
    return set(json.dumps(dataclasses.asdict(fir), ensure_ascii=False, default=str))


def _within(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= ord(ch) <= high for low, high in ranges)


def _private(directory: Path) -> bool:
    """``directory`` exists (made if not), is this user's and no one else may write in it.

    A cut is a font every Latin FIR is printed with: one another user of a shared /tmp could
    plant or swap would change what the PDFs of FIRs show."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = directory.lstat()
    return stat.S_ISDIR(found.st_mode) and found.st_uid == os.geteuid() and not found.st_mode & 0o022


@functools.cache
def latin_cut(font: Path, into: Path = CUT_DIR) -> Path:
    """``font`` with only the glyphs of :data:`LATIN`, made on first use and kept in ``into``
    (under the font's name, size and modification time); ``font`` itself when it cannot be
    made or kept there, or ``into`` is not this user's alone."""
    try:
        if not _private(into):
            return font
        made = font.stat()
        cut = into / f"{font.stem}-latin{CUT_VERSION}-{made.st_size}-{made.st_mtime_ns}.ttf"
        if cut.is_file():
            return cut
        whole = ttLib.TTFont(font)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.layout_features = []  # fpdf sets text without shaping: no substitutions, no kerning
        options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[code for low, high in LATIN for code in range(low, high + 1)])
        subsetter.subset(whole)
        # Written aside and renamed: a child reading the cut never sees half a file.
        handle, partial = tempfile.mkstemp(dir=into, suffix=".partial")
        os.close(handle)
        try:
            whole.save(partial)
            os.replace(partial, cut)
        finally:
            Path(partial).unlink(missing_ok=True)
    except (OSError, ttLib.TTLibError):
        return font
    return cut


def fonts_for(fir: Fir, fonts: Fonts) -> Fonts:
    """The fonts to set ``fir`` in, from one look at its characters: Lohit only when it has
    Devanagari (parsing a font costs more than laying out the whole form), and the Latin cuts
    of ``fonts`` when every other character is in them."""
    characters = _characters(fir)
    if not any(_within(ch, (DEVANAGARI,)) for ch in characters):
        fonts = dataclasses.replace(fonts, devanagari=None)
    if fonts.regular is None or not all(_within(ch, (*LATIN, DEVANAGARI)) for ch in characters):
        return fonts
    return dataclasses.replace(
        fonts, regular=latin_cut(fonts.regular), bold=latin_cut(fonts.bold) if fonts.bold else None
    )


def _when(value: datetime | None) -> str:
    return value.astimezone(IST).strftime("%d/%m/%Y %H:%M IST") if value else BLANK


def _date(value: Date | None) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}" if value and value.year else BLANK


def _or_blank(value: str) -> str:
    return value.strip() or BLANK


def _inr(value: float) -> str:
    return f"Rs. {value:,.2f}"


class _Form(FPDF):
    """An A4 page with the form's running header and footer."""

    def __init__(self, fir: Fir, fonts: Fonts) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.fir = fir
        self.family = "helvetica"
        self.unicode = fonts.regular is not None
        if fonts.regular is not None:
            self.add_font("dejavu", "", fonts.regular)
            self.add_font("dejavu", "B", fonts.bold or fonts.regular)
            self.family = "dejavu"
            if fonts.devanagari is not None:  # fonts_for keeps it only for an FIR that needs it
                self.add_font("lohit", "", fonts.devanagari)
                self.set_fallback_fonts(["lohit"], exact_match=False)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

    def text_of(self, value: str) -> str:
        """Text the current font can show."""
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def header(self) -> None:
        self.set_font(self.family, "", 8)
        self.set_text_color(90)
        state = "FINALIZED" if self.fir.status is FirStatus.FINALIZED else "DRAFT - NOT A REGISTERED FIR"
        self.cell(0, 4, self.text_of(f"FIR No. {self.fir.fir_number}    {state}"), align="R")
        self.ln(6)
        self.set_text_color(0)
        if self.fir.status is not FirStatus.FINALIZED:
            self._watermark()

    def _watermark(self) -> None:
        x, y = self.x, self.y
        self.set_font(self.family, "B", 70)
        self.set_text_color(235)
        with self.rotation(45, 105, 150):
            self.text(45, 170, "DRAFT")
        self.set_text_color(0)
        self.set_xy(x, y)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.set_text_color(90)
        self.cell(0, 4, f"Page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0)

    def title_block(self) -> None:
        self.set_font(self.family, "B", 14)
        self.cell(0, 7, "FIRST INFORMATION REPORT", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family, "", 9)
        self.cell(
            0,
            5,
            "(Under Section 173 of the Bharatiya Nagarik Suraksha Sanhita, 2023)",
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(3)

    def item(self, number: str, title: str) -> None:
        """A numbered item heading of the form."""
        self.ln(1.5)
        self.set_font(self.family, "B", 10)
        self.set_fill_color(236)
        self.cell(0, 6.5, self.text_of(f"{number}. {title}"), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family, "", 10)

    def field(self, label: str, value: str) -> None:
        """``label: value`` with the value wrapped beside the label."""
        self.set_font(self.family, "", 9)
        self.set_text_color(60)
        self.cell(LABEL_WIDTH, LINE, self.text_of(label))
        self.set_text_color(0)
        self.set_font(self.family, "", 10)
        self.multi_cell(0, LINE, self.text_of(_or_blank(value)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str) -> None:
        """Free text across the page."""
        self.set_font(self.family, "", 10)
        self.multi_cell(0, LINE, self.text_of(_or_blank(text)), align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, headings: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[int, ...]) -> None:
        """A bordered table, or a dash when there are no rows."""
        if not rows:
            self.paragraph(BLANK)
            return
        self.set_font(self.family, "", 9)
        with self.table(col_widths=widths, line_height=LINE, text_align="LEFT", first_row_as_headings=True) as table:
            table.row([self.text_of(h) for h in headings])
            for row in rows:
                table.row([self.text_of(_or_blank(c)) for c in row])


def _people(pdf: _Form, people: list[Person]) -> None:
    """A numbered grid of accused or witnesses."""
    pdf.grid(
        ("#", "Name", "Address", "Description"),
        [(str(i), p.name, p.address, p.description) for i, p in enumerate(people, 1)],
        (8, 45, 55, 72),
    )


def render_fir_pdf(fir: Fir, fonts: Fonts | None = None) -> bytes:
    """The FIR as a printable PDF."""
    pdf = _Form(fir, fonts_for(fir, fonts or Fonts.system()))
    pdf.set_title(f"FIR {fir.fir_number}")
    pdf.set_subject("First Information Report")
    pdf.set_creator("AFIRGen")
    pdf.set_creation_date(fir.update_time or datetime.now(UTC))
    pdf.add_page()
    pdf.title_block()
    st = fir.station
    pdf.item("1", "Registration")
    pdf.field("District", st.district)
    pdf.field("State", st.state)
    pdf.field("Police Station", f"{st.name} ({st.code})" if st.name else st.code)
    pdf.field("Year", fir.fir_number.split("/")[1] if fir.fir_number.count("/") == 2 else BLANK)
    pdf.field("FIR No.", fir.fir_number)
    pdf.field("Date and time of FIR", _when(fir.create_time))
    pdf.item("2", "Act(s) and Section(s)")
    pdf.grid(
        ("Act", "Section", "Title", "Why it applies"),
        [(s.act, s.section, s.title, s.reason) for s in fir.legal_sections],
        (14, 18, 60, 88),
    )
    inc = fir.incident
    pdf.item("3", "Occurrence of offence")
    pdf.field("(a) From", _when(inc.occurred_from))
    pdf.field("(b) To", _when(inc.occurred_to))
    pdf.field("(c) Information received at P.S.", _when(fir.create_time))
    pdf.item("4", "Type of information")
    source = fir.complaint.source
    kind = {ComplaintSource.AUDIO: "Oral (recorded)", ComplaintSource.IMAGE: "Written (scanned)"}.get(source, "Written")
    pdf.field("Type", kind)
    pdf.item("5", "Place of occurrence")
    distance = f"{inc.distance_km:g} km" if inc.distance_km else ""
    pdf.field(
        "(a) Direction and distance from P.S.",
        " ".join(p for p in (inc.direction_from_station, distance) if p),
    )
    pdf.field("(b) Place", inc.place)
    pdf.field("(c) Address", inc.address)
    c = fir.complainant
    pdf.item("6", "Complainant / Informant")
    pdf.field("(a) Name", c.name)
    pdf.field("(b) Father's / Husband's name", c.parent_or_spouse_name)
    pdf.field("(c) Date of birth", _date(c.date_of_birth))
    pdf.field("(d) Nationality", c.nationality)
    pdf.field("(e) Occupation", c.occupation)
    pdf.field("(f) Address", c.address)
    pdf.field("(g) Phone / e-mail", ", ".join(p for p in (c.phone, c.email) if p))
    pdf.item("7", "Details of known / suspected / unknown accused with full particulars")
    _people(pdf, fir.accused)
    pdf.item("8", "Reasons for delay in reporting by the complainant / informant")
    delay = f"{inc.reporting_delay_hours:g} hours. " if inc.reporting_delay_hours else ""
    pdf.paragraph(delay + inc.delay_reason if (delay or inc.delay_reason) else "No delay")
    pdf.item("9", "Particulars of properties stolen / involved")
    pdf.grid(
        ("#", "Description", "Value"),
        [(str(i), p.description, _inr(p.value_inr)) for i, p in enumerate(fir.properties, 1)],
        (8, 132, 40),
    )
    pdf.item("10", "Total value of property")
    pdf.paragraph(_inr(sum(p.value_inr for p in fir.properties)) if fir.properties else BLANK)
    pdf.item("11", "Witnesses")
    _people(pdf, fir.witnesses)
    pdf.item("12", "First Information contents")
    if fir.summary.strip():
        pdf.set_font(pdf.family, "B", 10)
        pdf.multi_cell(0, LINE, pdf.text_of(fir.summary.strip()), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    pdf.paragraph(fir.narrative)
    officer = fir.investigating_officer
    pdf.item("13", "Action taken")
    pdf.paragraph(
        fir.action_taken
        or "Since the above information reveals commission of offence(s) under the sections at item 2, "
        "a case is registered and taken up for investigation."
    )
    pdf.field("Investigating officer", f"{officer.name}, {officer.rank}" if officer.rank else officer.name)
    pdf.field("FIR read over to the complainant", "Admitted to be correctly recorded; copy given free of cost.")
    pdf.ln(10)
    pdf.set_font(pdf.family, "", 9)
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.cell(half, LINE, "14. Signature / thumb impression of the complainant")
    pdf.cell(
        half,
        LINE,
        "Signature of officer in charge, police station",
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.cell(half, LINE, "")
    pdf.cell(half, LINE, pdf.text_of(_or_blank(officer.name)), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    status = f"Finalized {_when(fir.finalize_time)}" if fir.status is FirStatus.FINALIZED else "Draft"
    pdf.field("15. Date and time of dispatch to the court", BLANK)
    pdf.field("Record status", status)
    return bytes(pdf.output())
