"""Evaluation: retrieval, transcription and scene-cut metrics against ground truth."""
