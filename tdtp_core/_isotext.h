/* ISO 8601 date and clock texts, as both compiled modules check them before they take
 * a value as it is (``packet/_rowdecode.c``, ``sql/_sqliterows.c``). */
#ifndef TDTP_ISOTEXT_H
#define TDTP_ISOTEXT_H

#include <Python.h>

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

#endif
