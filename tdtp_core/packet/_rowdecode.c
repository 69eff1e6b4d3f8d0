/* Packet row strings straight to typed row tuples, in C (the reader's decode step).
 *
 * The pure-Python reader splits a run of rows into text columns, resolves escapes,
 * converts each column and zips the columns into tuples: a Python object per cell at
 * every step. Here each row is split, unescaped and converted in one pass over its
 * UTF-8, for the canonical forms of each type only: a cell in any other form (an
 * exponent in a decimal, a zone offset, a year 0, a value out of range), a row with the
 * wrong number of cells, anything unexpected, and the whole run is left to the Python
 * path, which decodes it or names the bad cell. So the values are always the ones the
 * Python path gives (the property tests compare the two).
 *
 * Kind codes: s text, i INTEGER, r REAL, d DECIMAL, b BOOLEAN, D DATE, T TIMESTAMP
 * without zone, Z TIMESTAMP in UTC (aware).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <math.h>
#include <string.h>

#include "../_celltext.h"

static PyObject *DecimalType;

typedef struct {
    PyObject_HEAD
    int ncols;
    char *kinds;
    PyObject *markers; /* per column: a tuple of (marker as UTF-8 bytes, value) */
    char *cell;        /* the current cell, unescaped */
    Py_ssize_t cap;
} RowDecoder;

static void RowDecoder_dealloc(RowDecoder *self) {
    Py_XDECREF(self->markers);
    PyMem_Free(self->kinds);
    PyMem_Free(self->cell);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *RowDecoder_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *names[] = {"kinds", "markers", NULL};
    const char *kinds;
    Py_ssize_t nkinds;
    PyObject *markers;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s#O!", names, &kinds, &nkinds,
                                     &PyTuple_Type, &markers))
        return NULL;
    if (PyTuple_GET_SIZE(markers) != nkinds) {
        PyErr_SetString(PyExc_ValueError, "one marker dict per kind");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nkinds; i++) {
        if (!PyDict_CheckExact(PyTuple_GET_ITEM(markers, i))) {
            PyErr_SetString(PyExc_TypeError, "markers must be dicts");
            return NULL;
        }
        if (strchr("sirdbDTZ", kinds[i]) == NULL) {
            PyErr_Format(PyExc_ValueError, "unknown kind code %c", kinds[i]);
            return NULL;
        }
    }
    /* Each column's markers as UTF-8, compared with a cell's bytes as they are. */
    PyObject *encoded = PyTuple_New(nkinds);
    if (encoded == NULL) return NULL;
    for (Py_ssize_t i = 0; i < nkinds; i++) {
        PyObject *items = PyDict_Items(PyTuple_GET_ITEM(markers, i));
        if (items == NULL) {
            Py_DECREF(encoded);
            return NULL;
        }
        Py_ssize_t count = PyList_GET_SIZE(items);
        PyObject *pairs = PyTuple_New(count);
        for (Py_ssize_t k = 0; pairs != NULL && k < count; k++) {
            PyObject *item = PyList_GET_ITEM(items, k);
            PyObject *utf8 = PyUnicode_AsUTF8String(PyTuple_GET_ITEM(item, 0));
            PyObject *pair = utf8 ? PyTuple_Pack(2, utf8, PyTuple_GET_ITEM(item, 1)) : NULL;
            Py_XDECREF(utf8);
            if (pair == NULL) {
                Py_CLEAR(pairs);
                break;
            }
            PyTuple_SET_ITEM(pairs, k, pair);
        }
        Py_DECREF(items);
        if (pairs == NULL) {
            Py_DECREF(encoded);
            return NULL;
        }
        PyTuple_SET_ITEM(encoded, i, pairs);
    }
    RowDecoder *self = (RowDecoder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(encoded);
        return NULL;
    }
    self->ncols = (int)nkinds;
    self->kinds = PyMem_Malloc((size_t)nkinds + 1);
    if (self->kinds == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    memcpy(self->kinds, kinds, (size_t)nkinds);
    self->markers = encoded;
    return (PyObject *)self;
}


/* One cell to its value: a new reference, or NULL with no error set when the cell is
 * not in a form decoded here (the run falls back), or NULL with an error. */
static PyObject *cell_value(RowDecoder *self, int col, const char *s, Py_ssize_t n) {
    char kind = self->kinds[col];
    PyObject *markers = PyTuple_GET_ITEM(self->markers, col);
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(markers); k++) {
        PyObject *pair = PyTuple_GET_ITEM(markers, k);
        PyObject *marker = PyTuple_GET_ITEM(pair, 0);
        if (PyBytes_GET_SIZE(marker) == n && memcmp(PyBytes_AS_STRING(marker), s, (size_t)n) == 0)
            return Py_NewRef(PyTuple_GET_ITEM(pair, 1));
    }
    if (kind == 's') return PyUnicode_DecodeUTF8(s, n, NULL);
    if (n == 0) return Py_NewRef(Py_None); /* an empty cell is NULL but for text */
    switch (kind) {
    case 'i': {
        long long v;
        if (!parse_int_text(s, n, &v)) return NULL; /* 19+ digits: Python */
        return PyLong_FromLongLong(v);
    }
    case 'r': {
        double v;
        if (parse_float_text(s, n, &v) <= 0) return NULL;
        return PyFloat_FromDouble(v);
    }
    case 'd': {
        if (n > 64 || !float_syntax(s, n)) return NULL;
        PyObject *text = PyUnicode_DecodeUTF8(s, n, NULL);
        if (text == NULL) return NULL;
        PyObject *value = PyObject_CallOneArg(DecimalType, text);
        Py_DECREF(text);
        return value;
    }
    case 'b':
        if (n == 1 && (s[0] == '0' || s[0] == '1')) return Py_NewRef(s[0] == '1' ? Py_True : Py_False);
        if (n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "TRUE", 4) || !memcmp(s, "True", 4)))
            return Py_NewRef(Py_True);
        if (n == 5 && (!memcmp(s, "false", 5) || !memcmp(s, "FALSE", 5) || !memcmp(s, "False", 5)))
            return Py_NewRef(Py_False);
        return NULL;
    case 'D': {
        int y, m, d;
        if (n != 10 || !iso_day(s, &y, &m, &d)) return NULL;
        return PyDate_FromDate(y, m, d);
    }
    case 'T':
    case 'Z': {
        /* YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}][Z] */
        int y, m, d;
        if (n < 19 || !iso_day(s, &y, &m, &d) || (s[10] != 'T' && s[10] != ' ')) return NULL;
        int hh, mm, ss;
        if (!iso_clock(s + 11, &hh, &mm, &ss)) return NULL;
        Py_ssize_t end = n;
        if (s[end - 1] == 'Z') end--;
        int us = 0;
        if (end > 19) {
            Py_ssize_t places = end - 20;
            if (s[19] != '.' || places < 1 || places > 6 || !iso_digits(s + 20, places)) return NULL;
            for (Py_ssize_t k = 0; k < 6; k++) us = us * 10 + (k < places ? s[20 + k] - '0' : 0);
        } else if (end != 19) {
            return NULL;
        }
        PyObject *tz = kind == 'Z' ? PyDateTime_TimeZone_UTC : Py_None;
        return PyDateTimeAPI->DateTime_FromDateAndTime(y, m, d, hh, mm, ss, us, tz,
                                                       PyDateTimeAPI->DateTimeType);
    }
    }
    return NULL;
}

/* The row's cells, unescaped, one after another: returns 1 and fills ``row`` (a new
 * tuple), 0 to fall back, -1 on error. */
static int decode_row(RowDecoder *self, const char *s, Py_ssize_t n, PyObject **row) {
    PyObject *tuple = PyTuple_New(self->ncols);
    if (tuple == NULL) return -1;
    Py_ssize_t i = 0;
    int col = 0;
    for (;;) {
        Py_ssize_t start = i;
        int escaped;
        i = cell_end(s, n, i, &escaped);
        if (col == self->ncols) goto fallback;
        const char *cell = s + start;
        Py_ssize_t len = i - start;
        if (escaped) {
            if (len > self->cap) {
                char *grown = PyMem_Realloc(self->cell, (size_t)len);
                if (grown == NULL) {
                    PyErr_NoMemory();
                    goto error;
                }
                self->cell = grown;
                self->cap = len;
            }
            len = unescape_cell(cell, len, self->cell);
            cell = self->cell;
        }
        PyObject *value = cell_value(self, col, cell, len);
        if (value == NULL) {
            if (PyErr_Occurred()) goto error;
            goto fallback;
        }
        PyTuple_SET_ITEM(tuple, col, value);
        col++;
        if (i >= n) break;
        i++; /* past the '|' */
    }
    if (col != self->ncols) goto fallback;
    /* Its items are never containers: the collector need not follow it (it untracks
     * such tuples itself, but only after scanning them). */
    PyObject_GC_UnTrack(tuple);
    *row = tuple;
    return 1;
fallback:
    Py_DECREF(tuple);
    return 0;
error:
    Py_DECREF(tuple);
    return -1;
}

static PyObject *decode_rows(RowDecoder *self, PyObject *rows, PyObject *out,
                             Py_ssize_t count);

PyDoc_STRVAR(decode_doc,
             "decode(rows) -> list of tuples, or None: row strings as read from <R> "
             "(escapes not resolved) to typed rows; None when any cell or row is not in a "
             "form decoded here (the caller's Python path then decodes the run).");

static PyObject *RowDecoder_decode(RowDecoder *self, PyObject *rows) {
    if (!PyList_CheckExact(rows)) {
        PyErr_SetString(PyExc_TypeError, "rows must be a list");
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(rows);
    PyObject *out = PyList_New(count);
    if (out == NULL) return NULL;
    /* Nothing made here can form a cycle (the row tuples are untracked as they are
     * made): no collection need run in the middle of the run. */
    int collecting = PyGC_Disable();
    PyObject *result = decode_rows(self, rows, out, count);
    if (collecting) PyGC_Enable();
    return result;
}

/* ``out`` (a new list of ``count`` slots) filled with the decoded rows, or None (the
 * run falls back) or NULL (an error); ``out`` is consumed either way. */
static PyObject *decode_rows(RowDecoder *self, PyObject *rows, PyObject *out,
                             Py_ssize_t count) {
    for (Py_ssize_t r = 0; r < count; r++) {
        PyObject *text = PyList_GET_ITEM(rows, r);
        if (!PyUnicode_CheckExact(text)) {
            Py_DECREF(out);
            PyErr_SetString(PyExc_TypeError, "rows must be str");
            return NULL;
        }
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(text, &n);
        if (s == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyObject *row;
        int rc = decode_row(self, s, n, &row);
        if (rc <= 0) {
            Py_DECREF(out);
            if (rc < 0) return NULL;
            Py_RETURN_NONE;
        }
        PyList_SET_ITEM(out, r, row);
    }
    return out;
}

static PyMethodDef RowDecoder_methods[] = {
    {"decode", (PyCFunction)RowDecoder_decode, METH_O, decode_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RowDecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tdtp_core.packet._rowdecode.RowDecoder",
    .tp_basicsize = sizeof(RowDecoder),
    .tp_dealloc = (destructor)RowDecoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "RowDecoder(kinds, markers): packet row strings to typed rows.",
    .tp_methods = RowDecoder_methods,
    .tp_new = RowDecoder_new,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_rowdecode", "Packet row strings to typed rows.", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__rowdecode(void) {
    if (!init_c_locale()) return PyErr_SetFromErrno(PyExc_OSError);
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    PyObject *decimal = PyImport_ImportModule("decimal");
    if (decimal == NULL) return NULL;
    DecimalType = PyObject_GetAttrString(decimal, "Decimal");
    Py_DECREF(decimal);
    if (DecimalType == NULL) return NULL;
    if (PyType_Ready(&RowDecoderType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "RowDecoder", (PyObject *)&RowDecoderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
