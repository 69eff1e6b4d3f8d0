/* SQLite rows in C: straight to packet row text (the SQLite export lane), and the
 * pipeline workspace's storage check as an SQL function (``tdtp_stored_as_is``).
 *
 * A statement runs on the sqlite3 handle of a Python sqlite3.Connection (the same
 * library the stdlib module links, checked by the Python side) and every row becomes
 * the separator-form text the packet writer takes: cells joined by U+0000, NULL as
 * U+0002, text cells TDTP-escaped. Each column has a kind code saying how its stored
 * values become cell text; a value outside what the code handles exactly (a float with
 * an exponent, a malformed date, a control character, a storage class the column
 * should not hold) makes its row a fallback: the row's values are handed back as Python
 * objects, as the sqlite3 module would return them, and the caller encodes that row
 * the typed way. So the output is always the text the typed path would make.
 *
 * Kind codes: i INTEGER, r REAL, d DECIMAL (scale given), b BOOLEAN stored 0/1,
 * D DATE as ISO text, T TIMESTAMP in UTC as ISO text without zone, s TEXT.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "../_buffer.h"
#include "../_celltext.h"
#include "_sqlitehandle.h"

#define HAS_NULL 1
#define HAS_MARKER_TEXT 32
#define NEEDS_XML_ESCAPE 64

/* How a text byte is written: as it is (0), escaped with a backslash, flagging the
 * column for the XML layer, refused, or as the lead byte of a UTF-8 character that is
 * checked first. */
enum { PLAIN, ESCAPE, XML, INVALID, LEAD };
static unsigned char SPECIAL[256];

static void init_special(void) {
    for (int c = 0; c < 0x20; c++) SPECIAL[c] = INVALID;
    SPECIAL['\t'] = PLAIN;
    SPECIAL['\n'] = ESCAPE;
    SPECIAL['\r'] = XML;
    SPECIAL['\\'] = ESCAPE;
    SPECIAL['|'] = ESCAPE;
    SPECIAL['&'] = XML;
    SPECIAL['<'] = XML;
    SPECIAL['>'] = XML;
    for (int c = 0x80; c < 0x100; c++) SPECIAL[c] = LEAD;
}

/* The length of the UTF-8 character at ``s`` (``n`` bytes left), or 0 when it is not
 * well-formed UTF-8 (overlong, truncated, a surrogate, beyond U+10FFFF) or is U+FFFE or
 * U+FFFF, which XML cannot carry. */
static int utf8_char(const unsigned char *s, int n) {
    unsigned char c = s[0];
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)) return 0;
        if (c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF)) return 0;
        return 3;
    }
    if (c > 0xF4 || n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
        (s[3] & 0xC0) != 0x80)
        return 0;
    if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)) return 0;
    return 4;
}

typedef struct {
    PyObject_HEAD
    PyObject *conn;        /* keeps the connection (and so the handle) alive */
    sqlite3_stmt *stmt;
    int ncols;
    char *kinds;
    int *scales;
    double *limits;        /* DECIMAL: floats below this are closer than 10**-scale */
    double *units;         /* DECIMAL: 10**scale */
    char *marker;          /* the literal Null marker: a text cell equal to it is flagged */
    Py_ssize_t marker_len;
    int done;
    Buffer row;
} RowText;

static void RowText_finalize(RowText *self) {
    if (self->stmt != NULL) {
        sqlite3_finalize(self->stmt);
        self->stmt = NULL;
    }
    self->done = 1;
}

static void RowText_dealloc(RowText *self) {
    RowText_finalize(self);
    Py_XDECREF(self->conn);
    PyMem_Free(self->kinds);
    PyMem_Free(self->scales);
    PyMem_Free(self->limits);
    PyMem_Free(self->units);
    PyMem_Free(self->marker);
    PyMem_Free(self->row.data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The driver's exception classes, so callers handle our errors as the driver's. */
static PyObject *OperationalError;
static PyObject *IntegrityError;

PyObject *tdtp_sqlite_error(sqlite3 *db) {
    int code = sqlite3_extended_errcode(db) & 0xff;
    PyErr_SetString(code == SQLITE_CONSTRAINT ? IntegrityError : OperationalError,
                    sqlite3_errmsg(db));
    return NULL;
}

int tdtp_get_db(PyObject *conn, sqlite3 **db) {
    PyObject *sqlite3_mod = PyImport_ImportModule("sqlite3");
    if (sqlite3_mod == NULL) return -1;
    PyObject *conn_type = PyObject_GetAttrString(sqlite3_mod, "Connection");
    Py_DECREF(sqlite3_mod);
    if (conn_type == NULL) return -1;
    int is_conn = PyObject_IsInstance(conn, conn_type);
    Py_DECREF(conn_type);
    if (is_conn <= 0) {
        if (is_conn == 0) PyErr_SetString(PyExc_TypeError, "not a sqlite3.Connection");
        return -1;
    }
    *db = ((PySqliteConnection *)conn)->db;
    return 0;
}

static int bind_params(sqlite3_stmt *stmt, PyObject *params) {
    Py_ssize_t n = PyTuple_GET_SIZE(params);
    if (n != sqlite3_bind_parameter_count(stmt)) {
        PyErr_SetString(PyExc_ValueError, "wrong number of parameters");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyTuple_GET_ITEM(params, i);
        int rc;
        int at = (int)i + 1;
        if (v == Py_None) {
            rc = sqlite3_bind_null(stmt, at);
        } else if (PyLong_CheckExact(v)) {
            long long x = PyLong_AsLongLong(v);
            if (x == -1 && PyErr_Occurred()) return -1;
            rc = sqlite3_bind_int64(stmt, at, x);
        } else if (PyFloat_CheckExact(v)) {
            rc = sqlite3_bind_double(stmt, at, PyFloat_AS_DOUBLE(v));
        } else if (PyUnicode_CheckExact(v)) {
            Py_ssize_t len;
            const char *s = PyUnicode_AsUTF8AndSize(v, &len);
            if (s == NULL) return -1;
            rc = sqlite3_bind_text64(stmt, at, s, (sqlite3_uint64)len, SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
        } else if (PyBytes_CheckExact(v)) {
            rc = sqlite3_bind_blob64(stmt, at, PyBytes_AS_STRING(v),
                                     (sqlite3_uint64)PyBytes_GET_SIZE(v), SQLITE_TRANSIENT);
        } else {
            PyErr_Format(PyExc_TypeError, "unsupported parameter type %s", Py_TYPE(v)->tp_name);
            return -1;
        }
        if (rc != SQLITE_OK) {
            tdtp_sqlite_error(sqlite3_db_handle(stmt));
            return -1;
        }
    }
    return 0;
}

static PyObject *RowText_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *names[] = {"conn", "sql", "params", "kinds", "scales", "marker", NULL};
    PyObject *conn, *params, *scales;
    const char *sql, *kinds, *marker;
    Py_ssize_t sql_len, kinds_len, marker_len;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Os#O!s#O!s#", names, &conn, &sql, &sql_len,
                                     &PyTuple_Type, &params, &kinds, &kinds_len,
                                     &PyTuple_Type, &scales, &marker, &marker_len))
        return NULL;
    sqlite3 *db;
    if (tdtp_get_db(conn, &db) < 0) return NULL;
    if (db == NULL) {
        PyErr_SetString(PyExc_ValueError, "the connection is closed");
        return NULL;
    }
    if (PyTuple_GET_SIZE(scales) != kinds_len) {
        PyErr_SetString(PyExc_ValueError, "one scale per kind");
        return NULL;
    }
    RowText *self = (RowText *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->ncols = (int)kinds_len;
    self->kinds = PyMem_Malloc((size_t)kinds_len + 1);
    self->scales = PyMem_Calloc((size_t)kinds_len + 1, sizeof(int));
    self->limits = PyMem_Calloc((size_t)kinds_len + 1, sizeof(double));
    self->units = PyMem_Calloc((size_t)kinds_len + 1, sizeof(double));
    self->marker = PyMem_Malloc((size_t)marker_len + 1);
    if (!self->kinds || !self->scales || !self->limits || !self->units || !self->marker) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    memcpy(self->kinds, kinds, (size_t)kinds_len);
    memcpy(self->marker, marker, (size_t)marker_len);
    self->marker_len = marker_len;
    for (Py_ssize_t i = 0; i < kinds_len; i++) {
        long s = PyLong_AsLong(PyTuple_GET_ITEM(scales, i));
        if (s == -1 && PyErr_Occurred()) {
            Py_DECREF(self);
            return NULL;
        }
        if (s < 0 || s > 15) {
            Py_DECREF(self);
            PyErr_SetString(PyExc_ValueError, "scale out of range");
            return NULL;
        }
        self->scales[i] = (int)s;
        self->units[i] = pow(10.0, (double)s);
        self->limits[i] = ldexp(1.0, 52) / self->units[i];
    }
    Py_INCREF(conn);
    self->conn = conn;
    if (sqlite3_prepare_v2(db, sql, (int)sql_len, &self->stmt, NULL) != SQLITE_OK) {
        tdtp_sqlite_error(db);
        Py_DECREF(self);
        return NULL;
    }
    if (sqlite3_column_count(self->stmt) != self->ncols) {
        PyErr_SetString(PyExc_ValueError, "the statement's columns do not match the kinds");
        Py_DECREF(self);
        return NULL;
    }
    if (bind_params(self->stmt, params) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

/* Decimal text of ``v`` into ``out`` (at least 21 bytes); returns its length. */
static int int_text(long long v, char *out) {
    char digits[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int len = 0;
    if (v < 0) out[len++] = '-';
    while (n) out[len++] = digits[--n];
    return len;
}

/* ``YYYY-MM-DD``, a real day from year 1. */
static int is_day(const unsigned char *s) {
    int y, m, d;
    return iso_day((const char *)s, &y, &m, &d);
}

/* ``HH:MM:SS``, hour 0-23. */
static int is_clock(const unsigned char *c) {
    int h, m, s;
    return iso_clock((const char *)c, &h, &m, &s);
}

/* Only digits. */
static int is_digits(const unsigned char *s, int n) { return iso_digits((const char *)s, n); }

/* One value to cell text. Returns 1 when written, 0 when the row must fall back, -1
 * on error. */
static int put_cell(RowText *self, int col, int *flags) {
    sqlite3_stmt *st = self->stmt;
    int type = sqlite3_column_type(st, col);
    Buffer *b = &self->row;
    char tmp[64];
    if (type == SQLITE_NULL) {
        flags[col] |= HAS_NULL;
        return buf_put(b, "\x02", 1) < 0 ? -1 : 1;
    }
    switch (self->kinds[col]) {
    case 'i': {
        if (type != SQLITE_INTEGER) return 0;
        int n = int_text((long long)sqlite3_column_int64(st, col), tmp);
        return buf_put(b, tmp, n) < 0 ? -1 : 1;
    }
    case 'b': {
        if (type != SQLITE_INTEGER) return 0;
        sqlite3_int64 v = sqlite3_column_int64(st, col);
        if (v != 0 && v != 1) return 0;
        return buf_put(b, v ? "1" : "0", 1) < 0 ? -1 : 1;
    }
    case 'r': {
        if (type != SQLITE_FLOAT) return 0;
        double v = sqlite3_column_double(st, col);
        if (!isfinite(v)) return 0;
        char *text = PyOS_double_to_string(v, 'r', 0, 0, NULL);
        if (text == NULL) return -1;
        size_t n = strlen(text);
        int ok = strchr(text, 'e') == NULL;
        if (ok && n > 2 && text[n - 2] == '.' && text[n - 1] == '0') n -= 2;
        int rc = ok ? (buf_put(b, text, (Py_ssize_t)n) < 0 ? -1 : 1) : 0;
        PyMem_Free(text);
        return rc;
    }
    case 'd': {
        int scale = self->scales[col];
        if (type == SQLITE_INTEGER) {
            int n = int_text((long long)sqlite3_column_int64(st, col), tmp);
            if (buf_put(b, tmp, n) < 0) return -1;
            if (scale) {
                if (buf_reserve(b, scale + 1) < 0) return -1;
                b->data[b->len++] = '.';
                memset(b->data + b->len, '0', (size_t)scale);
                b->len += scale;
            }
            return 1;
        }
        if (type != SQLITE_FLOAT || scale == 0) return 0;
        double v = sqlite3_column_double(st, col);
        if (!(fabs(v) < self->limits[col])) return 0;
        /* k / 10**scale written out reads back as the value when that division gives
         * it (both exact doubles, the division correctly rounded); below the limit it
         * is then the only text with that many fraction digits that does, so it is
         * "%.{scale}f" and repr's text padded. */
        double unit = self->units[col];
        double k = nearbyint(v * unit);
        if (k / unit != v) return 0;
        long long whole = (long long)fabs(k);
        long long ten = (long long)unit;
        int n = 0;
        if (signbit(v)) tmp[n++] = '-';
        n += int_text(whole / ten, tmp + n);
        tmp[n++] = '.';
        long long frac = whole % ten;
        for (int d = scale - 1; d >= 0; d--) {
            tmp[n + d] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += scale;
        return buf_put(b, tmp, n) < 0 ? -1 : 1;
    }
    case 'D': {
        if (type != SQLITE_TEXT) return 0;
        const unsigned char *s = sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        if (n != 10 || !is_day(s)) return 0;
        return buf_put(b, (const char *)s, 10) < 0 ? -1 : 1;
    }
    case 'T': {
        if (type != SQLITE_TEXT) return 0;
        const unsigned char *s = sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        /* YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}] */
        if (n < 19 || n == 20 || n > 26 || !is_day(s) || (s[10] != ' ' && s[10] != 'T'))
            return 0;
        if (!is_clock(s + 11)) return 0;
        int end = 19;
        if (n > 19) {
            if (s[19] != '.' || !is_digits(s + 20, n - 20)) return 0;
            end = n;
            while (end > 20 && s[end - 1] == '0') end--;
            if (end == 20) end = 19; /* all zeros: no fraction */
        }
        if (buf_reserve(b, end + 1) < 0) return -1;
        memcpy(b->data + b->len, s, (size_t)end);
        b->data[b->len + 10] = 'T';
        b->data[b->len + end] = 'Z';
        b->len += end + 1;
        return 1;
    }
    case 's': {
        if (type != SQLITE_TEXT) return 0;
        const unsigned char *s = sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        if (n == self->marker_len && memcmp(s, self->marker, (size_t)n) == 0)
            flags[col] |= HAS_MARKER_TEXT;
        if (buf_reserve(b, 2 * (Py_ssize_t)n) < 0) return -1;
        char *out = b->data + b->len;
        int i = 0;
        while (i < n) {
            int start = i;
            while (i < n && !SPECIAL[s[i]]) i++;
            memcpy(out, s + start, (size_t)(i - start));
            out += i - start;
            if (i == n) break;
            unsigned char ch = s[i];
            switch (SPECIAL[ch]) {
            case ESCAPE:
                *out++ = '\\';
                *out++ = ch == '\n' ? 'n' : (char)ch;
                i++;
                continue;
            case XML:
                flags[col] |= NEEDS_XML_ESCAPE;
                break;
            case INVALID:
                return 0; /* a character XML cannot carry */
            case LEAD: {
                int len = utf8_char(s + i, n - i);
                if (len == 0) return 0; /* not UTF-8, or a character XML cannot carry */
                memcpy(out, s + i, (size_t)len);
                out += len;
                i += len;
                continue;
            }
            }
            *out++ = (char)ch;
            i++;
        }
        b->len = out - b->data;
        return 1;
    }
    }
    return 0;
}

/* A fallback row's values, as the sqlite3 module returns them. */
static PyObject *row_values(sqlite3_stmt *st, int ncols) {
    PyObject *values = PyTuple_New(ncols);
    if (values == NULL) return NULL;
    for (int i = 0; i < ncols; i++) {
        PyObject *v;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            v = PyLong_FromLongLong(sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            v = PyFloat_FromDouble(sqlite3_column_double(st, i));
            break;
        case SQLITE_TEXT:
            v = PyUnicode_FromStringAndSize((const char *)sqlite3_column_text(st, i),
                                            sqlite3_column_bytes(st, i));
            break;
        case SQLITE_BLOB:
            v = PyBytes_FromStringAndSize(sqlite3_column_blob(st, i),
                                          sqlite3_column_bytes(st, i));
            break;
        default:
            v = Py_NewRef(Py_None);
        }
        if (v == NULL) {
            Py_DECREF(values);
            return NULL;
        }
        PyTuple_SET_ITEM(values, i, v);
    }
    return values;
}

PyDoc_STRVAR(fetch_doc,
             "fetch(n) -> (rows, flags, fallbacks): up to n rows as separator-form UTF-8 (None "
             "where a row falls back), each column's flags, and (index, values) of the rows "
             "that fall back. No rows: the statement is done.");

static PyObject *RowText_fetch(RowText *self, PyObject *arg) {
    Py_ssize_t want = PyLong_AsSsize_t(arg);
    if (want == -1 && PyErr_Occurred()) return NULL;
    int ncols = self->ncols;
    int *flags = PyMem_Calloc((size_t)ncols + 1, sizeof(int));
    PyObject *rows = PyList_New(0);
    PyObject *fallbacks = PyList_New(0);
    PyObject *result = NULL;
    sqlite3_mutex *mutex = NULL;
    if (flags == NULL || rows == NULL || fallbacks == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* One lock for the batch instead of one per column call (the mutex is recursive). */
    mutex = self->stmt ? sqlite3_db_mutex(sqlite3_db_handle(self->stmt)) : NULL;
    if (mutex) sqlite3_mutex_enter(mutex);
    while (!self->done && PyList_GET_SIZE(rows) < want) {
        int rc = sqlite3_step(self->stmt);
        if (rc == SQLITE_DONE) {
            RowText_finalize(self);
            break;
        }
        if (rc != SQLITE_ROW) {
            tdtp_sqlite_error(sqlite3_db_handle(self->stmt));
            RowText_finalize(self);
            goto done;
        }
        Buffer *b = &self->row;
        b->len = 0;
        int ok = 1;
        for (int col = 0; col < ncols && ok; col++) {
            if (col && buf_put(b, "\x00", 1) < 0) goto done;
            int put = put_cell(self, col, flags);
            if (put < 0) goto done;
            ok = put;
        }
        PyObject *text = NULL;
        if (ok) {
            text = PyBytes_FromStringAndSize(b->data, b->len);
            if (text == NULL) goto done;
        } else {
            PyObject *values = row_values(self->stmt, ncols);
            if (values == NULL) goto done;
            PyObject *item = Py_BuildValue("(nN)", PyList_GET_SIZE(rows), values);
            if (item == NULL || PyList_Append(fallbacks, item) < 0) {
                Py_XDECREF(item);
                goto done;
            }
            Py_DECREF(item);
            text = Py_NewRef(Py_None);
        }
        int appended = PyList_Append(rows, text);
        Py_DECREF(text);
        if (appended < 0) goto done;
    }
    if (mutex) {
        sqlite3_mutex_leave(mutex);
        mutex = NULL;
    }
    PyObject *flag_list = PyList_New(ncols);
    if (flag_list == NULL) goto done;
    for (int i = 0; i < ncols; i++) {
        PyObject *f = PyLong_FromLong(flags[i]);
        if (f == NULL) {
            Py_DECREF(flag_list);
            goto done;
        }
        PyList_SET_ITEM(flag_list, i, f);
    }
    result = PyTuple_Pack(3, rows, flag_list, fallbacks);
    Py_DECREF(flag_list);
done:
    if (mutex) sqlite3_mutex_leave(mutex);
    PyMem_Free(flags);
    Py_XDECREF(rows);
    Py_XDECREF(fallbacks);
    return result;
}

static PyObject *RowText_close(RowText *self, PyObject *Py_UNUSED(ignored)) {
    RowText_finalize(self);
    Py_RETURN_NONE;
}

static PyMethodDef RowText_methods[] = {
    {"fetch", (PyCFunction)RowText_fetch, METH_O, fetch_doc},
    {"close", (PyCFunction)RowText_close, METH_NOARGS, "Finalize the statement."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RowTextType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tdtp_core.sql._sqliterows.RowText",
    .tp_basicsize = sizeof(RowText),
    .tp_dealloc = (destructor)RowText_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "RowText(conn, sql, params, kinds, scales, marker): a statement's rows as "
              "packet row text.",
    .tp_methods = RowText_methods,
    .tp_new = RowText_new,
};

/* ----------------------------------------------------------------- checked copy */

/* Whether a non-NULL source value is stored as it is by the workspace's typed path
 * (kind codes: i INTEGER, b BOOLEAN 0/1, f REAL or DECIMAL: a real, or an integer a
 * double holds exactly, stored as a real; s TEXT, x BLOB, D DATE ``YYYY-MM-DD``, T a
 * timestamp ``YYYY-MM-DD HH:MM:SS[.ffffff]`` with a non-zero fraction). */
static int stored_as_is(char kind, sqlite3_value *v) {
    int type = sqlite3_value_type(v);
    switch (kind) {
    case 'i':
        return type == SQLITE_INTEGER;
    case 'b': {
        if (type != SQLITE_INTEGER) return 0;
        sqlite3_int64 x = sqlite3_value_int64(v);
        return x == 0 || x == 1;
    }
    case 'f': {
        if (type == SQLITE_FLOAT) return 1;
        if (type != SQLITE_INTEGER) return 0;
        sqlite3_int64 x = sqlite3_value_int64(v);
        return x >= -9007199254740992LL && x <= 9007199254740992LL;
    }
    case 's':
        return type == SQLITE_TEXT;
    case 'x':
        return type == SQLITE_BLOB;
    case 'D': {
        if (type != SQLITE_TEXT) return 0;
        const unsigned char *s = sqlite3_value_text(v);
        return sqlite3_value_bytes(v) == 10 && is_day(s);
    }
    case 'T': {
        if (type != SQLITE_TEXT) return 0;
        const unsigned char *s = sqlite3_value_text(v);
        int n = sqlite3_value_bytes(v);
        if ((n != 19 && n != 26) || !is_day(s) || s[10] != ' ') return 0;
        if (!is_clock(s + 11)) return 0;
        return n == 19 || (s[19] == '.' && is_digits(s + 20, 6) && memcmp(s + 20, "000000", 6));
    }
    }
    return 0;
}

/* SQL function tdtp_stored_as_is(kinds, v1, v2, ...): 1 when every value is NULL or
 * stored as it is for its kind code, else an error that ends the statement. */
static void stored_as_is_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    const unsigned char *kinds = sqlite3_value_text(argv[0]);
    if (kinds == NULL || sqlite3_value_bytes(argv[0]) != argc - 1) {
        sqlite3_result_error(ctx, "tdtp_stored_as_is: one kind code per value", -1);
        return;
    }
    for (int i = 1; i < argc; i++) {
        if (sqlite3_value_type(argv[i]) != SQLITE_NULL &&
            !stored_as_is((char)kinds[i - 1], argv[i])) {
            sqlite3_result_error(ctx, "a value needs the typed path", -1);
            return;
        }
    }
    sqlite3_result_int(ctx, 1);
}

PyDoc_STRVAR(check_doc,
             "stored_as_is_function(conn, install): add (or, install false, remove) the SQL "
             "function tdtp_stored_as_is(kinds, v1, v2, ...) on the connection's handle.");

static PyObject *stored_as_is_function(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *conn;
    int install;
    if (!PyArg_ParseTuple(args, "Op", &conn, &install)) return NULL;
    sqlite3 *db;
    if (tdtp_get_db(conn, &db) < 0) return NULL;
    if (db == NULL) {
        PyErr_SetString(PyExc_ValueError, "the connection is closed");
        return NULL;
    }
    if (sqlite3_create_function_v2(db, "tdtp_stored_as_is", -1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                   install ? stored_as_is_func : NULL, NULL, NULL,
                                   NULL) != SQLITE_OK)
        return tdtp_sqlite_error(db);
    Py_RETURN_NONE;
}

static PyObject *filename(PyObject *Py_UNUSED(module), PyObject *conn) {
    /* What the handle behind ``conn`` says its main database is (the Python side checks
     * it against the connection's own answer before trusting the handle). */
    sqlite3 *db;
    if (tdtp_get_db(conn, &db) < 0) return NULL;
    if (db == NULL) Py_RETURN_NONE;
    const char *name = sqlite3_db_filename(db, "main");
    return PyUnicode_FromString(name ? name : "");
}

static PyObject *libversion(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored)) {
    return PyUnicode_FromString(sqlite3_libversion());
}

static PyMethodDef module_methods[] = {
    {"handle_filename", filename, METH_O, "The main database file of a connection's handle."},
    {"stored_as_is_function", stored_as_is_function, METH_VARARGS, check_doc},
    {"insert_rows", tdtp_insert_rows, METH_VARARGS, tdtp_insert_rows_doc},
    {"sqlite_version", libversion, METH_NOARGS, "The SQLite library this module uses."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sqliterows", "SQLite rows to packet row text.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__sqliterows(void) {
    init_special();
    PyObject *sqlite3_mod = PyImport_ImportModule("sqlite3");
    if (sqlite3_mod == NULL) return NULL;
    OperationalError = PyObject_GetAttrString(sqlite3_mod, "OperationalError");
    IntegrityError = PyObject_GetAttrString(sqlite3_mod, "IntegrityError");
    Py_DECREF(sqlite3_mod);
    if (OperationalError == NULL || IntegrityError == NULL) return NULL;
    if (PyType_Ready(&RowTextType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "RowText", (PyObject *)&RowTextType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
