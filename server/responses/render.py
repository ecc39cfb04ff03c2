"""Rendering a canned response's Liquid (V-1 to V-6) with python-liquid: the variables the
product fills (`recipient`, `user`, `conversation`, `message`) and form variables — any
other name — that the person inserting it must supply first. A missing product value
renders empty, so `| default:` and `== null` checks work as in liquid.js. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liquid import Environment
from liquid.exceptions import LiquidError

KNOWN = frozenset({"recipient", "user", "conversation", "message"})
ENV = Environment()


class TemplateError(ValueError):
    """Liquid that does not parse; the message says where."""


@dataclass(frozen=True)
class Person:
    email: str = ""
    name: str = ""

    def as_liquid(self) -> dict[str, Any]:
        first, _, last = self.name.strip().partition(" ")
        return {
            "email": self.email or None,
            "name": self.name.strip() or None,
            "first_name": first or None,
            "last_name": last.strip() or None,
        }


def check(template: str) -> None:
    try:
        ENV.from_string(template)
    except LiquidError as exc:
        raise TemplateError(str(exc).split("\n")[0]) from None


def form_variables(*templates: str) -> list[str]:
    """The names the person inserting must fill in, in order of first appearance."""
    found: dict[str, None] = {}
    for template in templates:
        for name in ENV.from_string(template).global_variables():
            if name not in KNOWN:
                found.setdefault(str(name), None)
    return list(found)


def render(template: str, context: dict[str, Any], form: dict[str, str]) -> str:
    return str(ENV.from_string(template).render(**{**form, **context}))
