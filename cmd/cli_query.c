/* cli_query.c -- 'lineiform query SQL [--db PATH] [--json|--csv]'.
 *
 * Opens the metadata database read-only (SQLITE_OPEN_READONLY and
 * query_only, so no statement can change it), runs every statement of SQL
 * and prints the rows of each as an aligned table (default), a JSON array
 * of objects, or CSV (RFC 4180 quoting).  Bad SQL: the sqlite message on one
 * line, exit 1.  A missing database: exit 1 naming the path. */
#include "cmd/cli.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum cli_qfmt { Q_TABLE, Q_JSON, Q_CSV };

struct cli_rows { int ncol; char **cells; int *is_num; size_t n, cap; }; /* row-major, ncol per row */

static int cli_rows_add(struct cli_rows *r, sqlite3_stmt *st)
{
    if ((r->n + 1) * r->ncol > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : (size_t)r->ncol * 64;
        char **c = realloc(r->cells, cap * sizeof *c);
        int *k = realloc(r->is_num, cap * sizeof *k);
        if (c) r->cells = c;
        if (k) r->is_num = k;
        if (!c || !k) return -1;
        r->cap = cap;
    }
    for (int i = 0; i < r->ncol; i++) {
        int t = sqlite3_column_type(st, i);
        const char *v = (const char *)sqlite3_column_text(st, i);
        size_t at = r->n * r->ncol + i;
        r->cells[at] = t == SQLITE_NULL ? NULL : strdup(v ? v : "");
        r->is_num[at] = t == SQLITE_INTEGER || t == SQLITE_FLOAT;
        if (t != SQLITE_NULL && !r->cells[at]) return -1;
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

static void cli_print_rows(sqlite3_stmt *st, const struct cli_rows *r, enum cli_qfmt fmt, int *first_json)
{
    if (fmt == Q_TABLE) { cli_print_table(st, r); return; }
    if (fmt == Q_CSV) {
        for (int c = 0; c < r->ncol; c++) { if (c) putchar(','); cli_print_csv_cell(sqlite3_column_name(st, c)); }
        putchar('\n');
    }
    for (size_t row = 0; row < r->n; row++) {
        if (fmt == Q_JSON) printf("%s{", *first_json ? "" : ",\n"), *first_json = 0;
        for (int c = 0; c < r->ncol; c++) {
            size_t at = row * r->ncol + c;
            if (fmt == Q_CSV) { if (c) putchar(','); cli_print_csv_cell(r->cells[at]); continue; }
            if (c) fputs(", ", stdout);
            cli_json_str(stdout, sqlite3_column_name(st, c));
            fputs(": ", stdout);
            if (!r->cells[at]) fputs("null", stdout);
            else if (r->is_num[at]) fputs(r->cells[at], stdout);
            else cli_json_str(stdout, r->cells[at]);
        }
        if (fmt == Q_JSON) putchar('}');
        else putchar('\n');
    }
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
            cli_error("query: %s", sqlite3_errmsg(db));
            rc = CLI_EXIT_FAIL;
            break;
        }
        sql = tail;
        if (!st) continue; /* whitespace or a comment */
        struct cli_rows r = { sqlite3_column_count(st), NULL, NULL, 0, 0 };
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            if (cli_rows_add(&r, st) < 0) { s = SQLITE_NOMEM; break; }
        if (s != SQLITE_DONE) {
            cli_error("query: %s", s == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
            rc = CLI_EXIT_FAIL;
        } else if (r.ncol) {
            cli_print_rows(st, &r, fmt, &first_json);
        }
        cli_rows_free(&r);
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
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL) != SQLITE_OK) {
        cli_error("%s: cannot open database: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return CLI_EXIT_FAIL;
    }
    int rc = cli_query_run(db, sql, fmt);
    sqlite3_close(db);
    return rc;
}
