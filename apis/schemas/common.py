"""Pieces every response shares: the error envelope fields."""

from pydantic import BaseModel


class Envelope(BaseModel):
    error_code: int = 200
    error_message: str = "OK"
