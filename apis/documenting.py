"""The documenting API."""

from fastapi import APIRouter

router = APIRouter(prefix="/documenting", tags=["documenting"])
