"""``/api/v1/people``: list, create, enrol photos (one usable face each)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.concurrency import run_in_threadpool

from heimdex_lab.api.deps import ApiError, Lib, rate_limit
from heimdex_lab.api.models import NewPerson, PersonRow, errors
from heimdex_lab.people import InvalidPhoto, PersonResult

router = APIRouter(prefix="/api/v1", tags=["people"], dependencies=[Depends(rate_limit)],
                   responses=errors(401, 429))  # fmt: skip

MAX_PHOTO_BYTES = 20 * 1024 * 1024


@router.get("/people", response_model=list[PersonRow])
def list_people(lib: Lib) -> list[dict[str, Any]]:
    """Every person of the caller: photos and the number of scenes they appear in."""
    return lib.people_list().to_dicts()


@router.post("/people", status_code=201, response_model=PersonResult,
             responses=errors(400, 413, 422, _400="the name is not printable text"))  # fmt: skip
def create_person(person: NewPerson, lib: Lib) -> PersonResult:
    """Create a person (no photos yet); an existing name returns that person."""
    return lib.people.create(person.name)


@router.post(
    "/people/{person_id}/photos", response_model=PersonResult,
    responses=errors(400, 404, 413, 422, _400="the multipart body is malformed",
                     _422="a photo without one usable face, or no photos"),
)  # fmt: skip
async def add_photos(
    person_id: str,
    lib: Lib,
    photos: Annotated[list[UploadFile], File(description="one or more photos, one face each")],
) -> PersonResult:
    """Enrol photos of a person; each must hold exactly one usable face (else 422 and why).

    All or nothing: one bad photo stores none of them. Stored faces are matched again.
    """
    people = lib.people
    name = people.name_of(person_id)
    with tempfile.TemporaryDirectory(prefix="heimdex-photos-") as folder:
        paths = []
        for n, photo in enumerate(photos):
            if photo.size is not None and photo.size > MAX_PHOTO_BYTES:
                raise ApiError(413, "too_large", f"{photo.filename}: a photo may have at "
                               f"most {MAX_PHOTO_BYTES:,} bytes")  # fmt: skip
            shown = "".join(c for c in Path(photo.filename or "").name if c.isprintable())
            path = Path(folder) / str(n) / (shown or "photo.jpg")  # the user's name: shown only
            path.parent.mkdir()
            path.write_bytes(await photo.read())
            paths.append(path)
        try:
            return await run_in_threadpool(people.add, name, paths)
        except InvalidPhoto as exc:  # name the user's file, never our temporary path
            raise ApiError(422, "invalid_photo", f"{Path(exc.path).name}: {exc.reason}") from None
