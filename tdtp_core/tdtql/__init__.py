"""TDTQL: the query language of TDTP, as text (``--where``) and as ``<Query>`` XML.

``parse`` turns the text form into a :class:`Query`; a query runs in memory over a table
stream (:meth:`Query.apply`) or becomes SQLAlchemy clauses (:meth:`Query.to_sqlalchemy`).
"""

from tdtp_core.errors import QueryError
from tdtp_core.tdtql.ast import Filter, Group, OrderItem
from tdtp_core.tdtql.parser import parse
from tdtp_core.tdtql.query import ExecutionResults, Query, QueryContext

__all__ = [
    "ExecutionResults",
    "Filter",
    "Group",
    "OrderItem",
    "Query",
    "QueryContext",
    "QueryError",
    "parse",
]
