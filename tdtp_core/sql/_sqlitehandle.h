/* What the two C files of the ``_sqliterows`` module share: the handle of a stdlib
 * ``sqlite3.Connection``, errors raised as the driver's own exception classes, and the
 * import lane (``_sqliteinsert.c``) the module exports. */
#ifndef TDTP_SQLITEHANDLE_H
#define TDTP_SQLITEHANDLE_H

#include <Python.h>
#include <sqlite3.h>

/* The head of CPython's sqlite3.Connection (Modules/_sqlite/connection.h): the handle
 * is its first member in every version this package supports. */
typedef struct {
    PyObject_HEAD
    sqlite3 *db;
} PySqliteConnection;

/* The handle of a sqlite3.Connection (NULL once closed); -1 if ``conn`` is not one. */
int tdtp_get_db(PyObject *conn, sqlite3 **db);

/* Raise the handle's last error as sqlite3.IntegrityError (constraints) or
 * sqlite3.OperationalError; returns NULL. */
PyObject *tdtp_sqlite_error(sqlite3 *db);

PyObject *tdtp_insert_rows(PyObject *module, PyObject *args);
extern const char tdtp_insert_rows_doc[];

#endif
