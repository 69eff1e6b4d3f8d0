/* Packet rows to COPY text in C (``bulktext.py``): the import lane of a database that
 * bulk-loads PostgreSQL's COPY text format.
 *
 * The typed import path decodes every cell, checks and converts the columns, and
 * formats them as COPY text (``copyin.copy_text``). Here each row string, as the packet
 * carries it, is split and unescaped and its cells written straight in COPY's text
 * format: cells joined by tabs, rows ended by line feeds, NULL as ``\N``, text with
 * backslash, line feed, carriage return and tab escaped.
 *
 * Codes: i INTEGER (written as the number it reads as), r a double (the cell as it is,
 * when it reads as a finite number), d DECIMAL in canonical form, b BOOLEAN 0/1,
 * D DATE ``YYYY-MM-DD``, Z an RFC 3339 UTC instant (all four as they are: the server
 * reads them as the values the typed path sends), s text (refused when it holds
 * U+0000, which the server cannot store; limits in characters). A row holding anything
 * else (see ``_rowlane.h``) ends the call: the text of the rows before it is returned
 * with its index, and the caller's typed path makes the rest of the batch.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "../_buffer.h"
#include "_rowlane.h"

/* Whether a float's text has a nonzero digit before its exponent (then reading it as
 * zero is an underflow the server refuses, while Python reads 0.0). */
static int nonzero_mantissa(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n && s[i] != 'e' && s[i] != 'E'; i++)
        if (s[i] >= '1' && s[i] <= '9') return 1;
    return 0;
}

/* Text with COPY's escapes. */
static int put_text(Buffer *out, const char *s, Py_ssize_t n) {
    if (buf_reserve(out, 2 * n) < 0) return -1;
    char *w = out->data + out->len;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        switch (c) {
        case '\\': *w++ = '\\'; *w++ = '\\'; break;
        case '\n': *w++ = '\\'; *w++ = 'n'; break;
        case '\r': *w++ = '\\'; *w++ = 'r'; break;
        case '\t': *w++ = '\\'; *w++ = 't'; break;
        default: *w++ = c;
        }
    }
    out->len = w - out->data;
    return 0;
}

/* Write placeholder ``j``'s cell: 1, 0 when the row must take the typed path, -1 on an
 * error (set). */
static int put_cell(Lane *lane, Buffer *out, int j) {
    Cell cell;
    int is_null;
    int ok = lane_cell(lane, j, &cell, &is_null);
    if (ok <= 0) return ok;
    if (is_null) return buf_put(out, "\\N", 2) < 0 ? -1 : 1;
    const char *s = cell.s;
    Py_ssize_t n = cell.n;
    switch (lane->codes[j]) {
    case 'i': {
        long long v;
        if (!parse_int_text(s, n, &v)) return 0;
        char text[24];
        int len = snprintf(text, sizeof text, "%lld", v);
        return buf_put(out, text, len) < 0 ? -1 : 1;
    }
    case 'r': {
        double v;
        int parsed = parse_float_text(s, n, &v);
        if (parsed <= 0) return parsed;
        if (v == 0.0 && nonzero_mantissa(s, n)) return 0;
        break;
    }
    case 'd':
        if (!canonical_decimal(s, n)) return 0;
        break;
    case 'b':
        if (n != 1 || (s[0] != '0' && s[0] != '1')) return 0;
        break;
    case 'D': {
        int y, m, d;
        if (n != 10 || !iso_day(s, &y, &m, &d)) return 0;
        break;
    }
    case 'Z':
        if (!rfc3339_utc(s, n)) return 0;
        break;
    default: /* 's' */
        if (!within_limit(lane, j, &cell) || memchr(s, '\0', (size_t)n) != NULL) return 0;
        return put_text(out, s, n) < 0 ? -1 : 1;
    }
    return buf_put(out, s, n) < 0 ? -1 : 1;
}

const char copy_rows_doc[] =
    "copy_rows(rows, sources, codes, nullable, limits, markers) -> (bytes, int): the row "
    "strings as COPY text, from the first row up to the first one the typed path must "
    "take; the int says how many rows the text holds.";

static PyObject *copy_rows(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *rows, *sources, *nullable, *limits, *markers;
    const char *codes;
    Py_ssize_t ncodes;
    if (!PyArg_ParseTuple(args, "O!O!s#O!O!O!", &PyList_Type, &rows, &PyTuple_Type, &sources,
                          &codes, &ncodes, &PyTuple_Type, &nullable, &PyTuple_Type, &limits,
                          &PyTuple_Type, &markers))
        return NULL;
    if (!init_c_locale()) return PyErr_SetFromErrno(PyExc_OSError);
    Lane lane;
    if (lane_init(&lane, sources, codes, ncodes, nullable, limits, markers) < 0) {
        lane_free(&lane);
        return NULL;
    }
    Buffer out = {NULL, 0, 0};
    Py_ssize_t count = PyList_GET_SIZE(rows);
    Py_ssize_t r = 0;
    int failed = 0;
    for (; r < count && !failed; r++) {
        const char *s;
        Py_ssize_t n;
        if (row_text(PyList_GET_ITEM(rows, r), &s, &n) < 0) {
            failed = 1;
            break;
        }
        if (s == NULL || !split_row(&lane, s, n)) break;
        Py_ssize_t row_start = out.len;
        int ok = 1;
        for (int j = 0; j < lane.nparams && ok > 0; j++) {
            if (j > 0 && buf_put(&out, "\t", 1) < 0) ok = -1;
            if (ok > 0) ok = put_cell(&lane, &out, j);
        }
        if (ok > 0 && buf_put(&out, "\n", 1) < 0) ok = -1;
        if (ok < 0) failed = 1;
        if (ok <= 0) {
            out.len = row_start; /* the row goes to the typed path whole */
            break;
        }
    }
    lane_free(&lane);
    PyObject *result = failed ? NULL : Py_BuildValue("(y#n)", out.data ? out.data : "",
                                                     out.len, r);
    PyMem_Free(out.data);
    return result;
}

static PyMethodDef methods[] = {
    {"copy_rows", copy_rows, METH_VARARGS, copy_rows_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_bulktext", "Packet rows to bulk text.", -1, methods,
};

PyMODINIT_FUNC PyInit__bulktext(void) { return PyModule_Create(&module); }
