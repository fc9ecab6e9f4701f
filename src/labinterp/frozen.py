"""The base of every validated catalogue model: frozen, and no unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Frozen"]


class Frozen(BaseModel):
    """A frozen pydantic model that rejects unknown fields.

    A typo in a site catalogue is then an error, not a silently ignored field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
