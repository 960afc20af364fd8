/* cli_query.c -- 'lineiform query SQL [--db PATH] [--json|--csv]'.
 *
 * Runs every statement of SQL over the metadata database and prints the
 * rows of each as an aligned table (default), a JSON array of objects, or
 * CSV (RFC 4180 quoting).  Bad SQL: the sqlite message on one line, exit 1.
 * A missing database: exit 1 naming the path.
 *
 * Read-only, and yet opened read-write: a database left with a hot journal
 * by a writer killed mid-store must be rolled back before it can be read,
 * which a read-only connection cannot do ("attempt to write a readonly
 * database" until some analyze came along).  What keeps it read-only is
 * PRAGMA query_only plus a check of every statement before it runs
 * (sqlite3_stmt_readonly: PRAGMA journal_mode=WAL or VACUUM INTO pass
 * query_only).  A file the user cannot write is opened read-only by sqlite
 * itself.  Another process's lock is waited for (an_busy_ms), then "busy".
 *
 * CSV and JSON rows are printed as they come (a query over a large table
 * ran in 885 MB before); only the table keeps its rows, to align them.
 * Values: NULL is NULL / null / an empty CSV field; a blob is x'hex' (a
 * JSON string); a real that is infinite is 1e999 or -1e999 in JSON (which
 * has no infinity; JavaScript and Python read them back as infinity), NaN
 * null; text that is not valid UTF-8 gets U+FFFD in JSON. */
#include "cmd/cli.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/an_store.h"

enum cli_qfmt { Q_TABLE, Q_JSON, Q_CSV };

/* A value as text for the table and CSV: NULL for SQL NULL; malloc'd. */
static char *cli_cell_text(sqlite3_stmt *st, int i)
{
    int t = sqlite3_column_type(st, i);
    if (t == SQLITE_NULL) return NULL;
    if (t == SQLITE_BLOB) {
        const unsigned char *b = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        char *s = malloc(2 * (size_t)n + 4);
        if (!s) return NULL;
        char *p = s;
        *p++ = 'x', *p++ = '\'';
        for (int k = 0; k < n; k++) p += sprintf(p, "%02x", b[k]);
        *p++ = '\'', *p = 0;
        return s;
    }
    const char *v = (const char *)sqlite3_column_text(st, i);
    return strdup(v ? v : "");
}

/* -- Table: buffered, to align ------------------------------------------ */

struct cli_rows { int ncol; char **cells; int *is_num; size_t n, cap; }; /* row-major, ncol per row */

static int cli_rows_add(struct cli_rows *r, sqlite3_stmt *st)
{
    if ((r->n + 1) * r->ncol > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : (size_t)r->ncol * 64;
        char **c = realloc(r->cells, cap * sizeof *c);
        if (c) r->cells = c;
        int *k = realloc(r->is_num, cap * sizeof *k);
        if (k) r->is_num = k;
        if (!c || !k) return -1;
        r->cap = cap;
    }
    for (int i = 0; i < r->ncol; i++) {
        int t = sqlite3_column_type(st, i);
        size_t at = r->n * r->ncol + i;
        r->cells[at] = cli_cell_text(st, i);
        r->is_num[at] = t == SQLITE_INTEGER || t == SQLITE_FLOAT;
        if (t != SQLITE_NULL && !r->cells[at]) {
            for (int k = 0; k < i; k++) free(r->cells[r->n * r->ncol + k]);
            return -1;
        }
    }
    r->n++;
    return 0;
}

static void cli_rows_free(struct cli_rows *r)
{
    for (size_t i = 0; i < r->n * r->ncol; i++) free(r->cells[i]);
    free(r->cells);
    free(r->is_num);
}

static void cli_print_table(sqlite3_stmt *st, const struct cli_rows *r)
{
    size_t *w = calloc(r->ncol, sizeof *w);
    if (!w) return;
    for (int c = 0; c < r->ncol; c++) w[c] = strlen(sqlite3_column_name(st, c));
    for (size_t i = 0; i < r->n * r->ncol; i++) {
        size_t l = r->cells[i] ? strlen(r->cells[i]) : 4;
        if (l > w[i % r->ncol]) w[i % r->ncol] = l;
    }
    /* no trailing blanks: a left-aligned last column is not padded */
    int last = r->ncol - 1;
    for (int c = 0; c < r->ncol; c++)
        printf("%s%-*s", c ? "  " : "", c == last ? 0 : (int)w[c], sqlite3_column_name(st, c));
    putchar('\n');
    for (int c = 0; c < r->ncol; c++) {
        printf("%s", c ? "  " : "");
        for (size_t k = 0; k < w[c]; k++) putchar('-');
    }
    putchar('\n');
    for (size_t row = 0; row < r->n; row++) {
        for (int c = 0; c < r->ncol; c++) {
            size_t at = row * r->ncol + c;
            const char *v = r->cells[at] ? r->cells[at] : "NULL";
            if (r->is_num[at]) printf("%s%*s", c ? "  " : "", (int)w[c], v);
            else printf("%s%-*s", c ? "  " : "", c == last ? 0 : (int)w[c], v);
        }
        putchar('\n');
    }
    printf("(%zu row%s)\n", r->n, r->n == 1 ? "" : "s");
    free(w);
}

/* -- CSV and JSON: streamed --------------------------------------------- */

static void cli_print_csv_cell(const char *v)
{
    if (!v) return;
    if (!strpbrk(v, ",\"\n\r")) { fputs(v, stdout); return; }
    putchar('"');
    for (; *v; v++) {
        if (*v == '"') putchar('"');
        putchar(*v);
    }
    putchar('"');
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static int cli_utf8_len(const unsigned char *p, size_t n)
{
    int len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || (size_t)len > n) return 0;
    for (int k = 1; k < len; k++)
        if ((p[k] & 0xc0) != 0x80) return 0;
    uint32_t c = len == 1 ? p[0] : len == 2 ? p[0] & 0x1fu : len == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
    for (int k = 1; k < len; k++) c = c << 6 | (p[k] & 0x3fu);
    static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0; /* overlong, surrogate */
    return len;
}

/* n bytes of text (may hold NULs) as a JSON string: escapes, U+FFFD for
 * each byte that is not part of valid UTF-8. */
static void cli_json_bytes(const unsigned char *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') printf("\\%c", c), i++;
        else if (c == '\n') fputs("\\n", stdout), i++;
        else if (c == '\t') fputs("\\t", stdout), i++;
        else if (c < 0x20) printf("\\u%04x", c), i++;
        else {
            int l = cli_utf8_len(p + i, n - i);
            if (l) fwrite(p + i, 1, (size_t)l, stdout), i += (size_t)l;
            else fputs("\\ufffd", stdout), i++;
        }
    }
    putchar('"');
}

static void cli_json_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: fputs("null", stdout); return;
    case SQLITE_INTEGER: printf("%lld", (long long)sqlite3_column_int64(st, i)); return;
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, i);
        if (isnan(d)) fputs("null", stdout);
        else if (isinf(d)) fputs(d > 0 ? "1e999" : "-1e999", stdout);
        else { /* the shortest of 15 or 17 digits that reads back the same */
            char t[40];
            snprintf(t, sizeof t, "%.15g", d);
            if (strtod(t, NULL) != d) snprintf(t, sizeof t, "%.17g", d);
            fputs(t, stdout);
        }
        return;
    }
    case SQLITE_BLOB: {
        char *s = cli_cell_text(st, i);
        cli_json_bytes((const unsigned char *)(s ? s : ""), s ? strlen(s) : 0);
        free(s);
        return;
    }
    default:
        cli_json_bytes(sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
    }
}

static int cli_stream_row(sqlite3_stmt *st, int ncol, enum cli_qfmt fmt, int *first_json)
{
    if (fmt == Q_JSON) {
        printf("%s{", *first_json ? "" : ",\n");
        *first_json = 0;
        for (int c = 0; c < ncol; c++) {
            if (c) fputs(", ", stdout);
            const char *name = sqlite3_column_name(st, c);
            cli_json_bytes((const unsigned char *)name, strlen(name));
            fputs(": ", stdout);
            cli_json_value(st, c);
        }
        putchar('}');
        return 0;
    }
    for (int c = 0; c < ncol; c++) {
        if (c) putchar(',');
        char *v = cli_cell_text(st, c);
        if (!v && sqlite3_column_type(st, c) != SQLITE_NULL) return -1;
        cli_print_csv_cell(v);
        free(v);
    }
    putchar('\n');
    return 0;
}

/* -- Statements --------------------------------------------------------- */

/* sqlite's message; another process's lock, after the wait, is "busy". */
static void cli_query_error(sqlite3 *db)
{
    int code = sqlite3_errcode(db);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        cli_error("query: %s: database is busy: another process held its lock for the %g s waited "
                  "(LINEIFORM_DB_TIMEOUT); try again", sqlite3_db_filename(db, "main"), an_busy_ms() / 1000.0);
    else cli_error("query: %s", sqlite3_errmsg(db));
}

static int cli_query_one(sqlite3 *db, sqlite3_stmt *st, enum cli_qfmt fmt, int *first_json)
{
    int ncol = sqlite3_column_count(st), s;
    struct cli_rows r = { ncol, NULL, NULL, 0, 0 };
    if (fmt == Q_CSV && ncol) {
        for (int c = 0; c < ncol; c++) { if (c) putchar(','); cli_print_csv_cell(sqlite3_column_name(st, c)); }
        putchar('\n');
    }
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int bad = fmt == Q_TABLE ? cli_rows_add(&r, st) : cli_stream_row(st, ncol, fmt, first_json);
        if (bad) { s = SQLITE_NOMEM; break; }
    }
    int rc = CLI_EXIT_OK;
    if (s != SQLITE_DONE) {
        if (s == SQLITE_NOMEM) cli_error("query: out of memory");
        else cli_query_error(db);
        rc = CLI_EXIT_FAIL;
    } else if (fmt == Q_TABLE && ncol) {
        cli_print_table(st, &r);
    }
    cli_rows_free(&r);
    return rc;
}

/* Run every statement of sql; returns the exit code. */
static int cli_query_run(sqlite3 *db, const char *sql, enum cli_qfmt fmt)
{
    int first_json = 1, rc = CLI_EXIT_OK;
    if (fmt == Q_JSON) putchar('[');
    while (sql && *sql && rc == CLI_EXIT_OK) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
            cli_query_error(db);
            rc = CLI_EXIT_FAIL;
            break;
        }
        sql = tail;
        if (!st) continue; /* whitespace or a comment */
        if (!sqlite3_stmt_readonly(st)) {
            cli_error("query: the database is opened readonly; this statement would change it: %.60s",
                      sqlite3_sql(st));
            rc = CLI_EXIT_FAIL;
        } else {
            rc = cli_query_one(db, st, fmt, &first_json);
        }
        sqlite3_finalize(st);
    }
    if (fmt == Q_JSON) printf("]\n");
    return rc;
}

static void cli_query_usage(FILE *f)
{
    fprintf(f, "usage: lineiform query SQL [--db PATH] [--json|--csv]\n"
               "  Read-only SQL over the metadata database (see README, \"Metadata database\n"
               "  schema\"), e.g. lineiform query 'SELECT name, size FROM functions LIMIT 5'\n");
}

int cli_query(int argc, char **argv)
{
    const char *sql = NULL, *dbopt = NULL;
    enum cli_qfmt fmt = Q_TABLE;
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { cli_query_usage(stdout); return CLI_EXIT_OK; }
        if (!strcmp(argv[i], "--json")) { fmt = Q_JSON; continue; }
        if (!strcmp(argv[i], "--csv")) { fmt = Q_CSV; continue; }
        if ((r = cli_opt_value(&i, argc, argv, "--db", &dbopt)) != 0) { if (r < 0) return CLI_EXIT_USAGE; continue; }
        if (argv[i][0] == '-' && argv[i][1] == '-') { cli_error("query: unknown option '%s'", argv[i]); return CLI_EXIT_USAGE; }
        if (sql) { cli_error("query: one SQL argument (quote it)"); return CLI_EXIT_USAGE; }
        sql = argv[i];
    }
    if (!sql) { cli_query_usage(stderr); return CLI_EXIT_USAGE; }
    char buf[4096];
    const char *path = cli_db_path(dbopt, 0, buf, sizeof buf);
    if (!path) return CLI_EXIT_FAIL;
    if (access(path, F_OK) != 0) {
        cli_error("%s: no metadata database (run 'lineiform analyze BIN' first)", path);
        return CLI_EXIT_FAIL;
    }
    sqlite3 *db = NULL;
    /* read-write without CREATE: see the top of the file */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, an_busy_ms()) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL) != SQLITE_OK) {
        cli_error("%s: cannot open database: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return CLI_EXIT_FAIL;
    }
    int rc = cli_query_run(db, sql, fmt);
    sqlite3_close(db);
    return rc;
}
