"""What is wrong with the settings, one line per problem, for an operator to read.

Any setting gets this for free: the line names its variable (``SHUTTERBOX_<NAME>``), the value
it was given and what is allowed, worked out from the field itself: its type (a whole number, a
number, true or false, one of the choices of a ``Literal``), its bounds (``ge``, ``gt``, ``le``,
``lt``), or, where a pattern or a check of its own says more than the type,
``json_schema_extra={"allowed": "..."}`` on the field. A check that looks at several settings
together raises ``InvalidSetting`` naming the setting to change and what it may be.

``shutterbox.entrypoints.cli`` prints these lines and exits with status 2 whenever reading the
settings fails, in every command.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import SettingsError

ENV_PREFIX = "SHUTTERBOX_"
SECRET_WORDS = ("secret", "password")  # settings whose values are never printed
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
_PARSING_FIELD = re.compile(r'error parsing value for field "(?P<name>[^"]+)"')


class InvalidSetting(ValueError):
    """A check across settings failed: ``setting`` (a field name) should change to what
    ``allowed`` says. Raised inside a model validator; pydantic keeps it in the error."""

    def __init__(self, setting: str, value: object, allowed: str) -> None:
        super().__init__(f"{setting}: {allowed}")
        self.setting = setting
        self.value = value
        self.allowed = allowed


def variable(name: str) -> str:
    """The environment variable a setting is read from."""
    return f"{ENV_PREFIX}{name.upper()}"


def shown(name: str, value: object) -> str:
    """The value as the line shows it: quoted, secrets hidden, passwords in URLs masked."""
    if any(word in name.lower() for word in SECRET_WORDS):
        return "(hidden)"
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return repr(_URL_PASSWORD.sub(r"\1***@", text))


def _plain(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, ...]`` → ``X``."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kept = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(kept) == 1:
            return _plain(kept[0])
    return annotation


def _kind(annotation: Any) -> str | None:
    plain = _plain(annotation)
    if typing.get_origin(plain) is typing.Literal:
        return "one of " + ", ".join(str(choice) for choice in typing.get_args(plain))
    if plain is bool:
        return "true or false"
    if plain is int:
        return "a whole number"
    if plain is float:
        return "a number"
    if isinstance(plain, type) and issubclass(plain, Path):
        return "a path"
    return None


def _bounds(metadata: Iterable[Any]) -> str | None:
    ge = gt = le = lt = None
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            ge = item.ge
        elif isinstance(item, annotated_types.Gt):
            gt = item.gt
        elif isinstance(item, annotated_types.Le):
            le = item.le
        elif isinstance(item, annotated_types.Lt):
            lt = item.lt
    if ge is not None and le is not None:
        return f"from {ge} to {le}"
    low = f"{ge} or more" if ge is not None else f"greater than {gt}" if gt is not None else None
    high = f"at most {le}" if le is not None else f"less than {lt}" if lt is not None else None
    return ", ".join(bound for bound in (low, high) if bound) or None


def allowed(field: FieldInfo) -> str | None:
    """What a setting may be, in words, from its declaration; None when nothing says."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("allowed"), str):
        return str(extra["allowed"])
    kind, bounds = _kind(field.annotation), _bounds(field.metadata)
    if kind is None and bounds is None:
        return None
    return " ".join(filter(None, [kind or "a value", bounds]))


def _field_line(model: type[BaseModel], error: Any) -> str:
    name = str(error["loc"][0])
    field = model.model_fields.get(name)
    told = allowed(field) if field is not None else None
    if error["type"] == "value_error":  # a check of the field's own says what was wrong
        reason = str(error["ctx"]["error"])
    elif told is not None:
        reason = f"expected {told}"
    else:
        reason = error["msg"]
    return f"{variable(name)}={shown(name, error['input'])} is not allowed: {reason}"


def problems(model: type[BaseModel], error: ValidationError | SettingsError) -> list[str]:
    """One line per problem with the settings of ``model``."""
    if isinstance(error, SettingsError):  # a value the source could not even parse
        found = _PARSING_FIELD.search(str(error))
        name = found["name"] if found else "settings"
        return [f"{variable(name)} could not be read: {error.__cause__ or error}"]
    lines = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidSetting):
            value = shown(cause.setting, cause.value)
            lines.append(f"{variable(cause.setting)}={value} is not allowed: {cause.allowed}")
        elif item["loc"]:
            lines.append(_field_line(model, item))
        else:
            lines.append(f"the settings are not allowed together: {item['msg']}")
    return lines


def is_about(model: type[BaseModel], error: BaseException) -> bool:
    """Whether ``error`` is a failure to read ``model`` (and not some other model's)."""
    if isinstance(error, SettingsError):
        return True
    return isinstance(error, ValidationError) and error.title == model.__name__
