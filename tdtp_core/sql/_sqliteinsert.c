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

#include "../_celltext.h"
#include "_sqlitehandle.h"

typedef struct {
    const char *s;
    Py_ssize_t n;
    int escaped;
} Cell;

/* One field's markers: UTF-8 texts, and whether each means NULL. */
typedef struct {
    Py_ssize_t count;
    const char **text;
    Py_ssize_t *len;
    int *is_null;
} Markers;

typedef struct {
    int nfields;
    int nparams;
    int *sources;
    const char *codes;
    int *nullable;
    Py_ssize_t *limits;
    Markers *markers;
    Cell *cells;
    char *scratch;
    Py_ssize_t cap;
} Lane;

static void lane_free(Lane *lane) {
    if (lane->markers != NULL) {
        for (int f = 0; f < lane->nfields; f++) {
            PyMem_Free(lane->markers[f].text);
            PyMem_Free(lane->markers[f].len);
            PyMem_Free(lane->markers[f].is_null);
        }
    }
    PyMem_Free(lane->markers);
    PyMem_Free(lane->sources);
    PyMem_Free(lane->nullable);
    PyMem_Free(lane->limits);
    PyMem_Free(lane->cells);
    PyMem_Free(lane->scratch);
}

/* The call's arguments as C arrays (the marker texts stay owned by ``markers``). */
static int lane_init(Lane *lane, PyObject *sources, const char *codes, Py_ssize_t ncodes,
                     PyObject *nullable, PyObject *limits, PyObject *markers) {
    memset(lane, 0, sizeof(*lane));
    Py_ssize_t nparams = PyTuple_GET_SIZE(sources);
    Py_ssize_t nfields = PyTuple_GET_SIZE(markers);
    if (ncodes != nparams || PyTuple_GET_SIZE(nullable) != nparams ||
        PyTuple_GET_SIZE(limits) != nparams || nfields < 1 || nfields > 32767) {
        PyErr_SetString(PyExc_ValueError, "one source, code, nullable and limit per placeholder");
        return -1;
    }
    lane->nfields = (int)nfields;
    lane->nparams = (int)nparams;
    lane->codes = codes;
    lane->sources = PyMem_Calloc((size_t)nparams, sizeof(int));
    lane->nullable = PyMem_Calloc((size_t)nparams, sizeof(int));
    lane->limits = PyMem_Calloc((size_t)nparams, sizeof(Py_ssize_t));
    lane->markers = PyMem_Calloc((size_t)nfields, sizeof(Markers));
    lane->cells = PyMem_Calloc((size_t)nfields, sizeof(Cell));
    if (!lane->sources || !lane->nullable || !lane->limits || !lane->markers || !lane->cells) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t j = 0; j < nparams; j++) {
        long source = PyLong_AsLong(PyTuple_GET_ITEM(sources, j));
        Py_ssize_t limit = PyLong_AsSsize_t(PyTuple_GET_ITEM(limits, j));
        int is_nullable = PyObject_IsTrue(PyTuple_GET_ITEM(nullable, j));
        if (PyErr_Occurred() || is_nullable < 0) return -1;
        if (source < 0 || source >= nfields || strchr("irdbDZs", codes[j]) == NULL) {
            PyErr_SetString(PyExc_ValueError, "bad source or code");
            return -1;
        }
        lane->sources[j] = (int)source;
        lane->limits[j] = limit;
        lane->nullable[j] = is_nullable;
    }
    for (Py_ssize_t f = 0; f < nfields; f++) {
        PyObject *pairs = PyTuple_GET_ITEM(markers, f);
        if (!PyTuple_Check(pairs)) {
            PyErr_SetString(PyExc_TypeError, "markers: a tuple of (bytes, is_null) per field");
            return -1;
        }
        Markers *m = &lane->markers[f];
        m->count = PyTuple_GET_SIZE(pairs);
        m->text = PyMem_Calloc((size_t)m->count + 1, sizeof(char *));
        m->len = PyMem_Calloc((size_t)m->count + 1, sizeof(Py_ssize_t));
        m->is_null = PyMem_Calloc((size_t)m->count + 1, sizeof(int));
        if (!m->text || !m->len || !m->is_null) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t k = 0; k < m->count; k++) {
            PyObject *pair = PyTuple_GET_ITEM(pairs, k);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
                !PyBytes_Check(PyTuple_GET_ITEM(pair, 0))) {
                PyErr_SetString(PyExc_TypeError, "markers: a tuple of (bytes, is_null) per field");
                return -1;
            }
            m->text[k] = PyBytes_AS_STRING(PyTuple_GET_ITEM(pair, 0));
            m->len[k] = PyBytes_GET_SIZE(PyTuple_GET_ITEM(pair, 0));
            m->is_null[k] = PyObject_IsTrue(PyTuple_GET_ITEM(pair, 1));
            if (m->is_null[k] < 0) return -1;
        }
    }
    return 0;
}

/* The row's cells as spans of its UTF-8: 1, or 0 when it has not exactly ``nfields``
 * cells. */
static int split_row(Lane *lane, const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    int col = 0;
    for (;;) {
        Py_ssize_t start = i;
        int escaped;
        i = cell_end(s, n, i, &escaped);
        if (col == lane->nfields) return 0;
        lane->cells[col].s = s + start;
        lane->cells[col].n = i - start;
        lane->cells[col].escaped = escaped;
        col++;
        if (i >= n) break;
        i++; /* past the '|' */
    }
    return col == lane->nfields;
}

/* An escaped cell resolved into the scratch buffer. */
static int unescape(Lane *lane, Cell *cell) {
    if (cell->n > lane->cap) {
        char *grown = PyMem_Realloc(lane->scratch, (size_t)cell->n);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        lane->scratch = grown;
        lane->cap = cell->n;
    }
    Py_ssize_t out = unescape_cell(cell->s, cell->n, lane->scratch);
    cell->s = lane->scratch;
    cell->n = out;
    cell->escaped = 0;
    return 0;
}

static int canonical_decimal(const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i == n) return 0;
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i == n) return 1;
    if (s[i] != '.' || i + 1 == n) return 0;
    return iso_digits(s + i + 1, n - i - 1);
}

/* ``YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`` as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (no fraction
 * when it is zero), the text the typed path binds: its length, or 0. */
static int utc_text(const char *s, Py_ssize_t n, char *out) {
    int y, m, d, hh, mm, ss;
    if (n < 20 || s[n - 1] != 'Z' || !iso_day(s, &y, &m, &d) || s[10] != 'T' ||
        !iso_clock(s + 11, &hh, &mm, &ss))
        return 0;
    memcpy(out, s, 19);
    out[10] = ' ';
    if (n == 20) return 19;
    Py_ssize_t places = n - 21;
    if (s[19] != '.' || places < 1 || places > 6 || !iso_digits(s + 20, places)) return 0;
    int zero = 1;
    for (Py_ssize_t k = 0; k < places; k++) zero &= s[20 + k] == '0';
    if (zero) return 19;
    out[19] = '.';
    for (Py_ssize_t k = 0; k < 6; k++) out[20 + k] = k < places ? s[20 + k] : '0';
    return 26;
}

static Py_ssize_t characters(const char *s, Py_ssize_t n) {
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < n; i++) count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

/* Bind placeholder ``j`` from its cell: 1, 0 when the row must take the typed path,
 * -1 on an error (set). */
static int bind_cell(Lane *lane, sqlite3_stmt *stmt, int j) {
    Cell cell = lane->cells[lane->sources[j]];
    if (cell.escaped && unescape(lane, &cell) < 0) return -1;
    char code = lane->codes[j];
    int at = j + 1;
    int is_null = cell.n == 0 && code != 's';
    Markers *m = &lane->markers[lane->sources[j]];
    for (Py_ssize_t k = 0; k < m->count; k++) {
        if (m->len[k] == cell.n && memcmp(m->text[k], cell.s, (size_t)cell.n) == 0) {
            if (!m->is_null[k]) return 0;
            is_null = 1;
            break;
        }
    }
    /* A cell bound from the row's own text stays valid until the call ends. */
    sqlite3_destructor_type keep = cell.s == lane->scratch ? SQLITE_TRANSIENT : SQLITE_STATIC;
    int rc;
    if (is_null) {
        if (!lane->nullable[j]) return 0;
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
            if (lane->limits[j] > 0 && cell.n > lane->limits[j] &&
                characters(cell.s, cell.n) > lane->limits[j])
                return 0;
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
        if (PyBytes_CheckExact(row)) {
            s = PyBytes_AS_STRING(row);
            n = PyBytes_GET_SIZE(row);
        } else if (PyUnicode_CheckExact(row)) {
            s = PyUnicode_AsUTF8AndSize(row, &n);
            if (s == NULL) {
                PyErr_Clear(); /* not encodable: the typed path reports it */
                return r;
            }
        } else {
            PyErr_SetString(PyExc_TypeError, "rows must be str or bytes");
            return -1;
        }
        if (!split_row(lane, s, n)) return r;
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
