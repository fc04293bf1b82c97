"""The machinery of the evaluation's typed records (``evaluation/records.py``, ``view_records.py``): a
dataclass read from and written to its JSON object, fields left out when they hold their 'not
recorded' value, keys this version does not know kept and written back, and a read-only Mapping of
the JSON form for code written for the dicts of earlier versions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any, ClassVar

from ..core.errors import ExtractorError


class Record(Mapping):
    """JSON in and out for a dataclass: a field whose value is in ``_OMIT`` (its 'not recorded'
    value) is left out of the JSON; ``extra`` holds (and gives back) keys this version does not know."""

    _OMIT: ClassVar[dict[str, Any]] = {}
    _NESTED: ClassVar[dict[str, Any]] = {}
    """field -> how its JSON value becomes the typed one (``from_json`` of a record class, or a function)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name in self._OMIT and value == self._OMIT[f.name]:
                continue
            out[f.name] = _plain(value)
        out.update(getattr(self, "extra", {}))
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = ""):
        if not isinstance(obj, Mapping):
            raise ExtractorError(f"{where or cls.__name__}: not a JSON object; was the file edited?")
        known = {f.name for f in fields(cls) if f.name != "extra"}  # type: ignore[arg-type]
        kwargs = {k: (cls._NESTED[k](v) if k in cls._NESTED and v is not None else v)
                  for k, v in obj.items() if k in known}
        extra = {k: v for k, v in obj.items() if k not in known}
        try:
            return cls(**kwargs, **({"extra": extra} if "extra" in {f.name for f in fields(cls)} else {}))  # type: ignore[arg-type]
        except TypeError as e:
            raise ExtractorError(f"{where or cls.__name__}: {e}; was the file edited?") from None

    # a read-only Mapping of the JSON form
    def __getitem__(self, key: str) -> Any:
        return self.to_json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def __len__(self) -> int:
        return len(self.to_json())

    __hash__ = None  # type: ignore[assignment]


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
