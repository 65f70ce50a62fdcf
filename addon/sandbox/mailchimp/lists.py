"""Placeholder: lists endpoints (filled in next)."""

from __future__ import annotations

from .routing import Router

router = Router()
