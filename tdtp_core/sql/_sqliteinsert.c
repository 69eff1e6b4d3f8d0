/* Packet rows into SQLite in C: the SQLite import lane (``insert_rows``).
 *
 * The typed import path decodes every cell to a Python value, checks and converts
 * whole columns (``checks.WritePlan``), packs row tuples and hands them to the sqlite3
 * module's ``executemany``, which binds them value by value. Here each row string, as
 * the packet carries it, is split and unescaped, every cell is bound in the form the
 * typed path would bind it to a prepared INSERT on the connection's own handle, and the
 * statement is stepped: no Python object per value.
 *
 * Each placeholder has a source cell and a code: i INTEGER, r REAL, d DECIMAL bound as
 * its canonical text, b BOOLEAN bound as 0/1, D DATE ``YYYY-MM-DD``, Z an RFC 3339 UTC
 * instant bound as ``YYYY-MM-DD HH:MM:SS[.ffffff]``, s text (with a limit in
 * characters, 0 for none). An empty cell is NULL except for text, and a cell equal to
 * the field's NULL marker is NULL. A row holding anything else (another marker, NULL in
 * a NOT NULL column, text over its limit, a cell in a form the typed path converts or
 * refuses, the wrong number of cells) ends the call: the rows before it are inserted
 * and its index is returned, and the caller's typed path takes the rest, inserting
 * them or naming the bad cell. So what is stored is always what the typed path stores
 * (the property tests compare the two).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sqlite3.h>
#include <string.h>

#include "_rowlane.h"
#include "_sqlitehandle.h"

/* ``YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`` as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (no fraction
 * when it is zero), the text the typed path binds: its length, or 0. */
static int utc_text(const char *s, Py_ssize_t n, char *out) {
    if (!rfc3339_utc(s, n)) return 0;
    memcpy(out, s, 19);
    out[10] = ' ';
    if (n == 20) return 19;
    Py_ssize_t places = n - 21;
    int zero = 1;
    for (Py_ssize_t k = 0; k < places; k++) zero &= s[20 + k] == '0';
    if (zero) return 19;
    out[19] = '.';
    for (Py_ssize_t k = 0; k < 6; k++) out[20 + k] = k < places ? s[20 + k] : '0';
    return 26;
}


/* Bind placeholder ``j`` from its cell: 1, 0 when the row must take the typed path,
 * -1 on an error (set). */
static int bind_cell(Lane *lane, sqlite3_stmt *stmt, int j) {
    Cell cell;
    int is_null;
    int ok = lane_cell(lane, j, &cell, &is_null);
    if (ok <= 0) return ok;
    char code = lane->codes[j];
    int at = j + 1;
    /* A cell bound from the row's own text stays valid until the call ends. */
    sqlite3_destructor_type keep = cell.s == lane->scratch ? SQLITE_TRANSIENT : SQLITE_STATIC;
    int rc;
    if (is_null) {
        rc = sqlite3_bind_null(stmt, at);
    } else {
        switch (code) {
        case 'i': {
            long long v;
            if (!parse_int_text(cell.s, cell.n, &v)) return 0;
            rc = sqlite3_bind_int64(stmt, at, v);
            break;
        }
        case 'r': {
            double v;
            int ok = parse_float_text(cell.s, cell.n, &v);
            if (ok <= 0) return ok;
            rc = sqlite3_bind_double(stmt, at, v);
            break;
        }
        case 'd':
            if (!canonical_decimal(cell.s, cell.n)) return 0;
            rc = sqlite3_bind_text64(stmt, at, cell.s, (sqlite3_uint64)cell.n, keep, SQLITE_UTF8);
            break;
        case 'b':
            if (cell.n != 1 || (cell.s[0] != '0' && cell.s[0] != '1')) return 0;
            rc = sqlite3_bind_int(stmt, at, cell.s[0] == '1');
            break;
        case 'D': {
            int y, mo, d;
            if (cell.n != 10 || !iso_day(cell.s, &y, &mo, &d)) return 0;
            rc = sqlite3_bind_text64(stmt, at, cell.s, 10, keep, SQLITE_UTF8);
            break;
        }
        case 'Z': {
            char text[26];
            int len = utc_text(cell.s, cell.n, text);
            if (len == 0) return 0;
            rc = sqlite3_bind_text64(stmt, at, text, (sqlite3_uint64)len, SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
            break;
        }
        default: /* 's' */
            if (!within_limit(lane, j, &cell)) return 0;
            rc = sqlite3_bind_text64(stmt, at, cell.s, (sqlite3_uint64)cell.n, keep, SQLITE_UTF8);
        }
    }
    if (rc != SQLITE_OK) {
        tdtp_sqlite_error(sqlite3_db_handle(stmt));
        return -1;
    }
    return 1;
}

/* Insert rows from the start of ``rows``: how many were inserted, or -1 (error set). */
static Py_ssize_t insert_all(Lane *lane, sqlite3_stmt *stmt, PyObject *rows) {
    Py_ssize_t count = PyList_GET_SIZE(rows);
    for (Py_ssize_t r = 0; r < count; r++) {
        PyObject *row = PyList_GET_ITEM(rows, r);
        const char *s;
        Py_ssize_t n;
        if (row_text(row, &s, &n) < 0) return -1;
        if (s == NULL || !split_row(lane, s, n)) return r;
        for (int j = 0; j < lane->nparams; j++) {
            int ok = bind_cell(lane, stmt, j);
            if (ok <= 0) return ok < 0 ? -1 : r;
        }
        int rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE) {
            tdtp_sqlite_error(sqlite3_db_handle(stmt));
            return -1;
        }
        sqlite3_reset(stmt);
    }
    return count;
}

const char tdtp_insert_rows_doc[] =
    "insert_rows(conn, sql, rows, sources, codes, nullable, limits, markers) -> int: run "
    "``sql`` (one placeholder per source) for each row string, in order, on the handle of "
    "``conn``; returns how many rows were inserted: all, or the index of the first row "
    "the typed path must take.";

PyObject *tdtp_insert_rows(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *conn, *rows, *sources, *nullable, *limits, *markers;
    const char *sql, *codes;
    Py_ssize_t ncodes;
    if (!PyArg_ParseTuple(args, "OsO!O!s#O!O!O!", &conn, &sql, &PyList_Type, &rows,
                          &PyTuple_Type, &sources, &codes, &ncodes, &PyTuple_Type, &nullable,
                          &PyTuple_Type, &limits, &PyTuple_Type, &markers))
        return NULL;
    if (!init_c_locale()) return PyErr_SetFromErrno(PyExc_OSError);
    sqlite3 *db;
    if (tdtp_get_db(conn, &db) < 0) return NULL;
    if (db == NULL) {
        PyErr_SetString(PyExc_ValueError, "the connection is closed");
        return NULL;
    }
    Lane lane;
    if (lane_init(&lane, sources, codes, ncodes, nullable, limits, markers) < 0) {
        lane_free(&lane);
        return NULL;
    }
    sqlite3_mutex_enter(sqlite3_db_mutex(db));
    sqlite3_stmt *stmt = NULL;
    Py_ssize_t done = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        tdtp_sqlite_error(db);
    } else if (sqlite3_bind_parameter_count(stmt) != lane.nparams) {
        PyErr_SetString(PyExc_ValueError, "one placeholder per source");
    } else {
        done = insert_all(&lane, stmt, rows);
    }
    sqlite3_finalize(stmt);
    sqlite3_mutex_leave(sqlite3_db_mutex(db));
    lane_free(&lane);
    return done < 0 ? NULL : PyLong_FromSsize_t(done);
}
