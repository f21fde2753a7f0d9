"""The preprocessing API."""

from fastapi import APIRouter

router = APIRouter(prefix="/preprocessing", tags=["preprocessing"])
