"""What fir's own process loads: the PDF layout (fpdf, numpy, fontTools: about 47 MiB)
belongs to its renderer children only."""

from __future__ import annotations

import subprocess
import sys


def test_fir_composition_root_does_not_load_the_pdf_layout() -> None:
    probe = "import sys, afirgen_fir.bootstrap; print(sorted({'fpdf', 'numpy', 'fontTools'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
