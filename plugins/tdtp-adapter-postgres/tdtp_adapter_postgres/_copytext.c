/* COPY text to packet rows in one pass, in C: the string path of the PostgreSQL export
 * lane (``copyout.CopyRows``), which the Python code does with a check and a handful
 * of whole-batch replacements plus a regex call per NULL cell.
 *
 * ``packet_rows(data, nullable)`` takes a batch as COPY sent it (rows ending in LF, the
 * last LF removed) and gives the rows in the writer's separator form, as UTF-8 bytes,
 * with each field's flags: a tab becomes U+0000, a ``\N`` cell the NULL stand-in
 * U+0002 (flagging a nullable column), ``|`` is escaped, and a row holding ``&``,
 * ``<`` or ``>`` flags the first field for the XML layer (the writer asks whether any
 * field has it). It returns None, and the caller decodes the batch cell by cell, when
 * the batch is not clean: a control character (the server's FLAG among them), a
 * literal ``[NULL]``, U+FFFE or U+FFFF, or a backslash escape other than ``\\``,
 * ``\n`` and ``\N``. So the rows are the Python string path's, byte for byte.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define HAS_NULL 1
#define NEEDS_XML_ESCAPE 64

/* Bytes that make a batch unclean: control characters but tab, LF and CR. */
static int is_control(unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

/* Whether the batch can take the string path (see the top of the file). */
static int clean(const unsigned char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x20) {
            if (is_control(c)) return 0;
        } else if (c == '\\') {
            if (i + 1 < n) {
                unsigned char e = s[i + 1];
                if (e != '\\' && e != 'n' && e != 'N') return 0;
                i++;
            }
        } else if (c == '[') {
            if (n - i >= 6 && memcmp(s + i, "[NULL]", 6) == 0) return 0;
        } else if (c == 0xEF) {
            if (n - i >= 3 && s[i + 1] == 0xBF && (s[i + 2] == 0xBE || s[i + 2] == 0xBF)) return 0;
        }
    }
    return 1;
}

PyDoc_STRVAR(packet_rows_doc,
             "packet_rows(data, nullable) -> (rows, flags) or None: a batch of COPY text "
             "rows (without the last line feed) as packet rows in separator form; "
             "``nullable`` has a byte per field, nonzero for a nullable one.");

static PyObject *packet_rows(PyObject *Py_UNUSED(module), PyObject *args) {
    const unsigned char *s;
    Py_ssize_t n;
    const char *nullable;
    Py_ssize_t nfields;
    if (!PyArg_ParseTuple(args, "y#y#", &s, &n, &nullable, &nfields)) return NULL;
    if (nfields < 1) {
        PyErr_SetString(PyExc_ValueError, "a batch has at least one field");
        return NULL;
    }
    if (!clean(s, n)) Py_RETURN_NONE;
    long *flags = PyMem_Calloc((size_t)nfields, sizeof(long));
    /* A row grows by one byte per '|' at most: twice its size is always enough. */
    char *out = PyMem_Malloc((size_t)n * 2 + 1);
    PyObject *rows = PyList_New(0);
    if (flags == NULL || out == NULL || rows == NULL) {
        PyMem_Free(flags);
        PyMem_Free(out);
        Py_XDECREF(rows);
        return PyErr_NoMemory();
    }
    Py_ssize_t i = 0;
    int failed = 0;
    int xml = 0;
    while (!failed) {
        /* one row: up to the next LF */
        Py_ssize_t len = 0;
        Py_ssize_t column = 0;
        Py_ssize_t cell_start = i;
        for (;;) {
            if (i >= n || s[i] == '\n' || s[i] == '\t') {
                if (i - cell_start == 2 && s[cell_start] == '\\' && s[cell_start + 1] == 'N') {
                    len -= 2;
                    out[len++] = '\x02';
                    if (column < nfields && nullable[column]) flags[column] |= HAS_NULL;
                }
                if (i >= n || s[i] == '\n') break;
                out[len++] = '\0';
                column++;
                cell_start = ++i;
                continue;
            }
            unsigned char c = s[i];
            if (c == '\\' && i + 1 < n && s[i + 1] != '\n') { /* a pair: \\ \n or \N */
                out[len++] = '\\';
                out[len++] = (char)s[i + 1];
                i += 2;
                continue;
            }
            if (c == '|') {
                out[len++] = '\\';
            } else if (c == '&' || c == '<' || c == '>') {
                xml = 1;
            }
            out[len++] = (char)c;
            i++;
        }
        PyObject *row = PyBytes_FromStringAndSize(out, len);
        if (row == NULL || PyList_Append(rows, row) < 0) failed = 1;
        Py_XDECREF(row);
        if (i >= n) break;
        i++; /* past the LF */
    }
    PyMem_Free(out);
    if (failed) {
        PyMem_Free(flags);
        Py_DECREF(rows);
        return NULL;
    }
    if (xml) flags[0] |= NEEDS_XML_ESCAPE;
    PyObject *flag_list = PyList_New(nfields);
    for (Py_ssize_t k = 0; flag_list != NULL && k < nfields; k++) {
        PyObject *v = PyLong_FromLong(flags[k]);
        if (v == NULL) {
            Py_CLEAR(flag_list);
            break;
        }
        PyList_SET_ITEM(flag_list, k, v);
    }
    PyMem_Free(flags);
    if (flag_list == NULL) {
        Py_DECREF(rows);
        return NULL;
    }
    return Py_BuildValue("(NN)", rows, flag_list);
}

static PyMethodDef methods[] = {
    {"packet_rows", packet_rows, METH_VARARGS, packet_rows_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_copytext", "COPY text to packet rows.", -1, methods,
};

PyMODINIT_FUNC PyInit__copytext(void) { return PyModule_Create(&module); }
