"""Hot statements compiled once and run on the driver's own cursor.

SQLAlchemy's execution of a compiled statement costs a hundred microseconds or more per row
(the inbox benchmark); a :class:`Prepared` statement costs a few, and raises SQLAlchemy's
exceptions all the same. A :class:`Bound` one has some of its values converted once, for the
many executions that share them (the inbox's statement, per signer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ClauseElement, Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Bound", "Prepared"]

# A parameter left to each execution: its place, its name, its bind processor and the type of
# value that skips it (``_NOTHING`` when none does).
_Slot = tuple[int, str, Callable[[Any], Any] | None, type | tuple[type, ...]]
_NOTHING: tuple[type, ...] = ()


class Prepared:
    """``statement`` compiled once for ``dialect``, to be run on the driver's cursor.

    Every bound parameter is named; values come from the parameters given at execution, or from
    the statement itself (literals SQLAlchemy bound). Each value goes through its type's bind
    processor, as SQLAlchemy would send it, except a value of a ``verbatim`` parameter that is
    an instance of the type given for it there, which the driver gets as is (JSON already
    serialised, say). Statements that SQLAlchemy completes only at
    execution time (expanding ``IN`` lists, literal execution) are refused.
    """

    def __init__(
        self,
        statement: ClauseElement,
        dialect: Dialect,
        *,
        verbatim: Mapping[str, type] | None = None,
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler), "a SQL statement"
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("statements with expanding or literal-execute parameters")
        self.sql = compiled.string
        self.dialect = dialect
        names = {bind: name for bind, name in compiled.bind_names.items()}
        self._order: tuple[str, ...] = tuple(
            compiled.positiontup if compiled.positional and compiled.positiontup else names.values()
        )
        self._positional = bool(compiled.positional)
        self._defaults: dict[str, Any] = {}
        self._processors: dict[str, Callable[[Any], Any]] = {}
        self._verbatim = dict(verbatim or {})
        for bind, name in names.items():
            if not bind.required:
                self._defaults[name] = bind.effective_value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[name] = processor

    def _convert(self, name: str, value: Any) -> Any:
        processor = self._processors.get(name)
        if processor is None or isinstance(value, self._verbatim.get(name, ())):
            return value
        return processor(value)

    def _pack(self, values: list[Any]) -> tuple[Any, ...] | dict[str, Any]:
        return tuple(values) if self._positional else dict(zip(self._order, values, strict=True))

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for one execution; ``KeyError`` if a value is missing."""
        return self._pack(
            [
                self._convert(name, params[name] if name in params else self._defaults[name])
                for name in self._order
            ]
        )

    def bind(self, constants: Mapping[str, Any]) -> Bound:
        """This statement with ``constants`` (and the statement's own literals) converted now;
        each execution then gives the other values. ``KeyError`` names one left out."""
        template: list[Any] = []
        plain: list[tuple[int, str]] = []
        converted: list[_Slot] = []
        for index, name in enumerate(self._order):
            if name in constants:
                template.append(self._convert(name, constants[name]))
            elif name in self._defaults and name not in self._processors:
                template.append(self._defaults[name])
            else:
                template.append(None)
                processor = self._processors.get(name)
                if processor is None and name not in self._defaults:
                    plain.append((index, name))
                else:
                    verbatim = self._verbatim.get(name, _NOTHING)
                    converted.append((index, name, processor, verbatim))
        return Bound(self, template, tuple(plain), tuple(converted))

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run on ``connection``'s driver connection, in its current transaction; the rowcount."""
        return self.run(connection, self.parameters(params))

    def run(self, connection: Connection, parameters: tuple[Any, ...] | dict[str, Any]) -> int:
        """Run with the driver's ``parameters`` as :meth:`parameters` makes them."""
        driver = connection.connection.dbapi_connection
        assert driver is not None, "the connection is open"
        cursor = driver.cursor()
        try:
            cursor.execute(self.sql, parameters)
            return int(cursor.rowcount)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                self.sql,
                None,
                exc,
                self.dialect.loaded_dbapi.Error,
                hide_parameters=True,
                dialect=self.dialect,
            ) from exc
        finally:
            cursor.close()


class Bound:
    """A :class:`Prepared` statement with some values converted once (:meth:`Prepared.bind`)."""

    __slots__ = ("_converted", "_plain", "_prepared", "_template")

    def __init__(
        self,
        prepared: Prepared,
        template: list[Any],
        plain: tuple[tuple[int, str], ...],
        converted: tuple[_Slot, ...],
    ) -> None:
        self._prepared = prepared
        self._template = template
        self._plain = plain  # given at each execution, sent as they are
        self._converted = converted  # given at each execution or defaulted, then converted

    @property
    def sql(self) -> str:
        return self._prepared.sql

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: the bound values, and ``params`` for the rest (a value in
        ``params`` for a bound name is ignored); ``KeyError`` if one is missing."""
        prepared = self._prepared
        values = self._template.copy()
        for index, name in self._plain:
            values[index] = params[name]
        for index, name, processor, verbatim in self._converted:
            value = params[name] if name in params else prepared._defaults[name]
            if processor is not None and not isinstance(value, verbatim):
                value = processor(value)
            values[index] = value
        return prepared._pack(values)

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """As :meth:`Prepared.execute`, with the bound values."""
        return self._prepared.run(connection, self.parameters(params))
