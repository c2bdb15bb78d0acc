"""FIR records service: numbering, drafts, edits, finalization, statistics."""
