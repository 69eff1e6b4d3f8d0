/* Packet cell texts as the compiled modules read them (``packet/_rowdecode.c``,
 * ``sql/_sqliterows.c``, ``sql/_sqliteinsert.c``): splitting a row and resolving its
 * escapes, and the forms taken as they are, ISO 8601 days and clocks and the
 * finite float syntax. Anything else is left to the Python paths. */
#ifndef TDTP_CELLTEXT_H
#define TDTP_CELLTEXT_H

#include <Python.h>
#include <math.h>
#include <string.h>

static inline int iso_digits(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static inline int iso_two(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

/* ``YYYY-MM-DD``: a real day from year 1 (Python's ``date`` range). */
static inline int iso_day(const char *s, int *y, int *m, int *d) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!iso_digits(s, 4) || s[4] != '-' || !iso_digits(s + 5, 2) || s[7] != '-' ||
        !iso_digits(s + 8, 2))
        return 0;
    *y = iso_two(s) * 100 + iso_two(s + 2);
    *m = iso_two(s + 5);
    *d = iso_two(s + 8);
    if (*y < 1 || *m < 1 || *m > 12 || *d < 1) return 0;
    int leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    return *d <= days[*m - 1] + (*m == 2 && leap);
}

/* ``HH:MM:SS`` with hour 0-23 and no leap second. */
static inline int iso_clock(const char *c, int *h, int *m, int *s) {
    if (!iso_digits(c, 2) || c[2] != ':' || !iso_digits(c + 3, 2) || c[5] != ':' ||
        !iso_digits(c + 6, 2))
        return 0;
    *h = iso_two(c);
    *m = iso_two(c + 3);
    *s = iso_two(c + 6);
    return *h <= 23 && *m <= 59 && *s <= 59;
}

/* Where the cell starting at ``i`` of the row ``s[0:n]`` ends: at the next '|' that is
 * not escaped, or at ``n`` (escapes pair up from the left; a backslash that ends the row
 * stays). ``*escaped`` says whether the cell holds a backslash. */
static inline Py_ssize_t cell_end(const char *s, Py_ssize_t n, Py_ssize_t i, int *escaped) {
    *escaped = 0;
    while (i < n && s[i] != '|') {
        if (s[i] == '\\') {
            *escaped = 1;
            i += 2;
        } else {
            i++;
        }
    }
    return i > n ? n : i;
}

/* An escaped cell resolved into ``out`` (room for ``n`` bytes): ``\n`` is a line feed,
 * any other ``\x`` is x. Returns the length. */
static inline Py_ssize_t unescape_cell(const char *s, Py_ssize_t n, char *out) {
    Py_ssize_t len = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        char ch = s[k];
        if (ch == '\\' && k + 1 < n) {
            ch = s[++k];
            if (ch == 'n') ch = '\n';
        }
        out[len++] = ch;
    }
    return len;
}

/* ``YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z``: an RFC 3339 UTC instant Python reads exactly. */
static inline int rfc3339_utc(const char *s, Py_ssize_t n) {
    int y, m, d, hh, mm, ss;
    if (n < 20 || s[n - 1] != 'Z' || !iso_day(s, &y, &m, &d) || s[10] != 'T' ||
        !iso_clock(s + 11, &hh, &mm, &ss))
        return 0;
    if (n == 20) return 1;
    Py_ssize_t places = n - 21;
    return s[19] == '.' && places >= 1 && places <= 6 && iso_digits(s + 20, places);
}

/* ``-?(0|[1-9][0-9]*)(\.[0-9]+)?``: a decimal whose ``Decimal`` text is itself. */
static inline int canonical_decimal(const char *s, Py_ssize_t n) {
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

/* ``[+-]?digits[.digits][(e|E)[+-]digits]`` or ``[+-]?.digits[...]``: the finite forms
 * of the reference's float syntax. */
static inline int float_syntax(const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    Py_ssize_t before = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    Py_ssize_t whole = i - before;
    Py_ssize_t frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        Py_ssize_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        frac = i - start;
    }
    if (whole == 0 && frac == 0) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        Py_ssize_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == start) return 0;
    }
    return i == n;
}

/* A signed integer of at most 18 digits (always in the 64-bit range): 1 and ``*v``. */
static inline int parse_int_text(const char *s, Py_ssize_t n, long long *v) {
    Py_ssize_t i = 0;
    int negative = 0;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 18 || !iso_digits(s + i, n - i)) return 0;
    long long x = 0;
    for (; i < n; i++) x = x * 10 + (s[i] - '0');
    *v = negative ? -x : x;
    return 1;
}

#ifdef __GLIBC__
#include <locale.h>
#include <stdlib.h>
/* glibc's strtod is correctly rounded, as Python's own float() is; in the C locale it
 * reads '.' whatever the process locale, and it skips the x87 control-word switch
 * PyOS_string_to_double makes around every call. Each C file that parses floats calls
 * ``init_c_locale`` before it does. */
static locale_t c_locale;
static inline int init_c_locale(void) {
    if (c_locale == (locale_t)0) c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    return c_locale != (locale_t)0;
}
static inline double parse_double(const char *s, char **end) { return strtod_l(s, end, c_locale); }
#else
static inline int init_c_locale(void) { return 1; }
static inline double parse_double(const char *s, char **end) {
    return PyOS_string_to_double(s, end, NULL);
}
#endif

/* A finite float in the syntax above, as ``float()`` reads it: 1 and ``*v``. An error
 * may be set (then -1). */
static inline int parse_float_text(const char *s, Py_ssize_t n, double *v) {
    if (n > 64 || !float_syntax(s, n)) return 0;
    char buf[72];
    memcpy(buf, s, (size_t)n);
    buf[n] = '\0';
    char *end;
    double x = parse_double(buf, &end);
    if (x == -1.0 && PyErr_Occurred()) return -1;
    if (end != buf + n || isinf(x)) return 0; /* out of range: Python says so */
    *v = x;
    return 1;
}

#endif
