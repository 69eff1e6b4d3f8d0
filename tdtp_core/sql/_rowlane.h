/* What the compiled import lanes share (``_sqliteinsert.c`` binds rows to a SQLite
 * INSERT, ``_bulktext.c`` writes them as a database's bulk text): the call's arguments
 * as C arrays, a row split into cells, and each placeholder's cell with its escapes
 * resolved, its markers and NULL decided.
 *
 * Arguments (one per placeholder): ``sources`` the cell index, ``codes`` the kind code,
 * ``nullable``, ``limits`` (text length in characters, 0 for none); ``markers`` per
 * field: a tuple of (marker as UTF-8 bytes, whether it means NULL). An empty cell is
 * NULL except for text (code ``s``). */
#ifndef TDTP_ROWLANE_H
#define TDTP_ROWLANE_H

#include <Python.h>
#include <string.h>

#include "../_celltext.h"

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

static Py_ssize_t characters(const char *s, Py_ssize_t n) {
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < n; i++) count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

/* Whether a text cell is within its placeholder's length limit. */
static int within_limit(Lane *lane, int j, const Cell *cell) {
    Py_ssize_t limit = lane->limits[j];
    return limit <= 0 || cell->n <= limit || characters(cell->s, cell->n) <= limit;
}

/* Placeholder ``j``'s cell of the split row, escapes resolved, and whether it is NULL:
 * 1, 0 when the row must take the typed path (a marker other than NULL's, NULL in a
 * NOT NULL column), -1 on an error (set). */
static int lane_cell(Lane *lane, int j, Cell *cell, int *is_null) {
    *cell = lane->cells[lane->sources[j]];
    if (cell->escaped && unescape(lane, cell) < 0) return -1;
    *is_null = cell->n == 0 && lane->codes[j] != 's';
    Markers *m = &lane->markers[lane->sources[j]];
    for (Py_ssize_t k = 0; k < m->count; k++) {
        if (m->len[k] == cell->n && memcmp(m->text[k], cell->s, (size_t)cell->n) == 0) {
            if (!m->is_null[k]) return 0;
            *is_null = 1;
            break;
        }
    }
    return *is_null && !lane->nullable[j] ? 0 : 1;
}

/* The row strings of a call: a list of str or UTF-8 bytes. ``*s`` is NULL (no error)
 * when a str cannot be encoded: the typed path reports it. */
static int row_text(PyObject *row, const char **s, Py_ssize_t *n) {
    if (PyBytes_CheckExact(row)) {
        *s = PyBytes_AS_STRING(row);
        *n = PyBytes_GET_SIZE(row);
        return 0;
    }
    if (PyUnicode_CheckExact(row)) {
        *s = PyUnicode_AsUTF8AndSize(row, n);
        if (*s == NULL) PyErr_Clear();
        return 0;
    }
    PyErr_SetString(PyExc_TypeError, "rows must be str or bytes");
    return -1;
}

#endif
