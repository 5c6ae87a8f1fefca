"""A submitted form as the page shows it again: the values given and one error per field."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

__all__ = ["FormState", "read_form"]


@dataclass
class FormState:
    """Values are kept (passwords never are) so that a failed submission comes back whole."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


async def read_form(request: Request, *names: str) -> FormState:
    """The named text fields of a posted form (a missing or non-text field reads as empty).
    Templates never write a password back into its field."""
    async with request.form() as form:
        values = {}
        for name in names:
            value = form.get(name)
            values[name] = value if isinstance(value, str) else ""
    return FormState(values)
