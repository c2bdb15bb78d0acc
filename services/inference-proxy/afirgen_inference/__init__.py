"""AFIRGen inference proxy: the mesh's front door to the model servers (LLM, ASR, OCR)."""
