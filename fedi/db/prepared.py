"""Hot statements compiled once and run on the driver's own cursor.

SQLAlchemy's execution of a compiled statement costs a hundred microseconds or more per row
(the inbox benchmark); a :class:`Prepared` statement costs a few, and raises SQLAlchemy's
exceptions all the same. A :class:`Bound` one has some of its values converted once, for the
many executions that share them (the inbox's statement, per signer).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ClauseElement, Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Bound", "Prepared"]

# How a value given at execution is converted: its bind processor, and the type of value that
# skips it (``_NOTHING`` when none does).
_Converter = tuple[Callable[[Any], Any], type | tuple[type, ...]]
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
        # Per parameter, in order: its name, its processor (or None) and what skips it.
        self._plan = tuple(
            (name, self._processors.get(name), self._verbatim.get(name, _NOTHING))
            for name in self._order
        )

    def _convert(self, name: str, value: Any) -> Any:
        processor = self._processors.get(name)
        if processor is None or isinstance(value, self._verbatim.get(name, ())):
            return value
        return processor(value)

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for one execution; ``KeyError`` if a value is missing."""
        defaults = self._defaults
        values = []
        for name, processor, verbatim in self._plan:
            value = params[name] if name in params else defaults[name]
            if processor is not None and not isinstance(value, verbatim):
                value = processor(value)
            values.append(value)
        return self._finish(tuple(values))

    def bind(self, constants: Mapping[str, Any]) -> Bound:
        """This statement with ``constants`` converted now; each execution then gives the other
        values (or takes the statement's own literals). ``KeyError`` names one left out."""
        fixed = {name: self._convert(name, value) for name, value in constants.items()}
        literals = {
            name: self._convert(name, value)
            for name, value in self._defaults.items()
            if name not in fixed
        }
        converters = {
            name: (processor, self._verbatim.get(name, _NOTHING))
            for name, processor in self._processors.items()
            if name not in fixed
        }
        return Bound(self, literals, fixed, converters)

    def _finish(self, values: tuple[Any, ...]) -> tuple[Any, ...] | dict[str, Any]:
        """Values in the statement's order as the driver takes them."""
        return values if self._positional else dict(zip(self._order, values, strict=True))

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run on ``connection``'s driver connection, in its current transaction; the rowcount."""
        return self.run(connection, self.parameters(params))

    def run(self, connection: Connection, parameters: tuple[Any, ...] | dict[str, Any]) -> int:
        """Run with the driver's ``parameters`` as :meth:`parameters` makes them."""
        return self._on_cursor(connection, lambda cursor: cursor.execute(self.sql, parameters))

    def first(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run a query with ``params``; its first row as the driver gives it (no result
        processing: SQLite gives booleans as integers), or ``None``."""
        rows: list[Any] = []

        def fetch(cursor: Any) -> None:
            cursor.execute(self.sql, self.parameters(params))
            rows.append(cursor.fetchone())

        self._on_cursor(connection, fetch)
        return None if rows[0] is None else tuple(rows[0])

    def run_many(
        self, connection: Connection, parameters: Sequence[tuple[Any, ...] | dict[str, Any]]
    ) -> int:
        """Run once per set of driver ``parameters`` (the driver's ``executemany``); the total
        rowcount."""
        return self._on_cursor(connection, lambda cursor: cursor.executemany(self.sql, parameters))

    def _on_cursor(self, connection: Connection, run: Callable[[Any], object]) -> int:
        """``run`` on a cursor of ``connection``'s driver connection, in its current
        transaction; the rowcount. Driver errors are raised as SQLAlchemy's."""
        driver = connection.connection.dbapi_connection
        assert driver is not None, "the connection is open"
        cursor = driver.cursor()
        try:
            run(cursor)
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
    """A :class:`Prepared` statement with some values converted once (:meth:`Prepared.bind`).

    Each execution merges the values given with those bound and picks them in the statement's
    order in one step; only the values given that need converting are touched one by one.
    """

    __slots__ = ("_converters", "_fixed", "_literals", "_pick", "_prepared")

    def __init__(
        self,
        prepared: Prepared,
        literals: dict[str, Any],
        fixed: dict[str, Any],
        converters: dict[str, _Converter],
    ) -> None:
        self._prepared = prepared
        self._literals = literals  # the statement's own, converted, unless a value is given
        self._fixed = fixed  # bound and converted: they win over any value given
        self._converters = converters  # for the values given that need converting
        order = prepared._order
        self._pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            operator.itemgetter(*order)
            if len(order) > 1
            else (lambda values: tuple(values[name] for name in order))
        )

    @property
    def sql(self) -> str:
        return self._prepared.sql

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters: the bound values, and ``params`` for the rest (a value in
        ``params`` for a bound name is ignored); ``KeyError`` if one is missing."""
        merged = {**self._literals, **params, **self._fixed}
        for name in self._converters.keys() & params.keys():
            processor, verbatim = self._converters[name]
            value = params[name]
            if not isinstance(value, verbatim):
                merged[name] = processor(value)
        return self._prepared._finish(self._pick(merged))

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """As :meth:`Prepared.execute`, with the bound values."""
        return self._prepared.run(connection, self.parameters(params))

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Once per row of values, in one ``executemany`` of the driver; the total rowcount."""
        return self._prepared.run_many(connection, [self.parameters(row) for row in rows])
