/* an_store.c -- the sqlite metadata database (see an_store.h; the schema is
 * AN_SCHEMA below and README.md "Metadata database schema").
 *
 * Speed: one transaction per binary, prepared statements (64 rows per
 * statement for the bulk tables: blocks, edges, loop_blocks,
 * jump_table_targets), row ids assigned here (max(id)+1 onward) so that rows can reference each
 * other without a round trip; the rollback journal (journal_mode=DELETE,
 * so that a read-only `lineiform query` needs no -shm file) with
 * synchronous=NORMAL, a 64 MB page cache.
 *
 * Invariants:
 *   1. Every address column = link-time vaddr - binaries.load_base.
 *   2. On any failure inside an_db_store the transaction is rolled back.
 *   3. A process that finds the database locked waits up to AN_BUSY_MS
 *      ($LINEIFORM_DB_TIMEOUT seconds when set), then says "busy": a store
 *      of libc.so.6 holds the write lock for 0.5-1.4 s (lineiform analyze
 *      --force, six runs on a loaded 2-core machine), bigger binaries for
 *      longer, which the 5 s wait of before did not always cover. */
#include "analyzer/an_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "analyzer/an_internal.h"

struct an_db { sqlite3 *db; const char *path; int busy_ms; };

/* How long a writer or reader waits for another process's lock. */
#define AN_BUSY_MS 60000

static const char AN_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS binaries(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " build_id TEXT, content_hash TEXT, file_size INTEGER, elf_type TEXT, pie INTEGER,"
    " load_base INTEGER, entry INTEGER, has_dwarf INTEGER, stripped INTEGER,"
    " n_functions INTEGER, n_with_proto INTEGER, n_blocks INTEGER, n_edges INTEGER, n_loops INTEGER,"
    " n_indirect INTEGER, n_jump_tables INTEGER, n_liftable INTEGER, n_symtab INTEGER,"
    " n_dynsym INTEGER, n_eh_frame INTEGER, n_plt INTEGER, analyzed_at TEXT, elapsed_ms REAL);"
    "CREATE TABLE IF NOT EXISTS segments(binary_id INTEGER, vaddr INTEGER, memsz INTEGER,"
    " file_offset INTEGER, filesz INTEGER, flags TEXT);"
    "CREATE TABLE IF NOT EXISTS sections(binary_id INTEGER, name TEXT, addr INTEGER, size INTEGER,"
    " file_offset INTEGER, type INTEGER, flags INTEGER);"
    "CREATE TABLE IF NOT EXISTS functions(id INTEGER PRIMARY KEY, binary_id INTEGER, name TEXT,"
    " addr INTEGER, size INTEGER, source TEXT, is_plt INTEGER, plt_target TEXT, parent_id INTEGER,"
    " has_proto INTEGER, variadic INTEGER, noreturn INTEGER, ret_type TEXT, ret_class TEXT,"
    " n_params INTEGER, n_blocks INTEGER, n_edges INTEGER, n_insns INTEGER, n_loops INTEGER,"
    " n_indirect INTEGER, liftable INTEGER, unsupported_addr INTEGER, unsupported TEXT);"
    "CREATE TABLE IF NOT EXISTS params(function_id INTEGER, idx INTEGER, name TEXT, ctype TEXT,"
    " size INTEGER, class TEXT);"
    "CREATE TABLE IF NOT EXISTS blocks(id INTEGER PRIMARY KEY, function_id INTEGER, addr INTEGER,"
    " size INTEGER, n_insns INTEGER, idom INTEGER, loop_depth INTEGER, is_entry INTEGER);"
    "CREATE TABLE IF NOT EXISTS edges(function_id INTEGER, from_block INTEGER, to_block INTEGER,"
    " target INTEGER, kind TEXT);"
    "CREATE TABLE IF NOT EXISTS loops(id INTEGER PRIMARY KEY, function_id INTEGER,"
    " header_block INTEGER, parent_id INTEGER, depth INTEGER, n_blocks INTEGER, n_back_edges INTEGER);"
    "CREATE TABLE IF NOT EXISTS loop_blocks(loop_id INTEGER, block_id INTEGER);"
    "CREATE TABLE IF NOT EXISTS jump_tables(id INTEGER PRIMARY KEY, function_id INTEGER,"
    " site INTEGER, table_addr INTEGER, entry_size INTEGER, relative INTEGER, n_entries INTEGER,"
    " bounded INTEGER);"
    "CREATE TABLE IF NOT EXISTS jump_table_targets(jump_table_id INTEGER, idx INTEGER,"
    " target INTEGER, block_id INTEGER);"
    "CREATE TABLE IF NOT EXISTS indirect_sites(function_id INTEGER, block_id INTEGER, addr INTEGER,"
    " kind TEXT, text TEXT, jump_table_id INTEGER);"
    "CREATE INDEX IF NOT EXISTS functions_addr ON functions(binary_id, addr);"
    "CREATE INDEX IF NOT EXISTS functions_name ON functions(name);"
    "CREATE INDEX IF NOT EXISTS blocks_func ON blocks(function_id, addr);"
    "CREATE INDEX IF NOT EXISTS edges_func ON edges(function_id);"
    "CREATE INDEX IF NOT EXISTS params_func ON params(function_id);"
    "CREATE INDEX IF NOT EXISTS loops_func ON loops(function_id);"
    "CREATE INDEX IF NOT EXISTS loop_blocks_loop ON loop_blocks(loop_id);"
    "CREATE INDEX IF NOT EXISTS jump_tables_func ON jump_tables(function_id);"
    "CREATE INDEX IF NOT EXISTS jt_targets_jt ON jump_table_targets(jump_table_id);"
    "CREATE INDEX IF NOT EXISTS sites_func ON indirect_sites(function_id);"
    "CREATE INDEX IF NOT EXISTS segments_bin ON segments(binary_id);"
    "CREATE INDEX IF NOT EXISTS sections_bin ON sections(binary_id);";

/* "PATH: what: cause".  sqlite says "disk I/O error" or "database or disk
 * is full" for what the system call knew better (EFBIG past ulimit -f,
 * ENOSPC, EACCES): its errno is named too.  A lock held by another process
 * is "busy", after the wait AN_BUSY_MS allows. */
static enum lf_status an_db_fail(struct an_db *db, char *err, size_t errlen, const char *what)
{
    if (!err || !errlen) return LF_ERR_DB;
    if (!db->db) {
        snprintf(err, errlen, "%s: %s: cannot open", db->path, what);
        return LF_ERR_DB;
    }
    int code = sqlite3_errcode(db->db), sys = sqlite3_system_errno(db->db);
    struct rlimit rl;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
        snprintf(err, errlen, "%s: database is busy: another process held its lock for the %g s waited "
                 "(LINEIFORM_DB_TIMEOUT); try again", db->path, db->busy_ms / 1000.0);
    } else if (sys && (code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CANTOPEN ||
                       code == SQLITE_READONLY || code == SQLITE_PERM)) {
        snprintf(err, errlen, "%s: %s: %s (%s)", db->path, what, sqlite3_errmsg(db->db), strerror(sys));
    } else if ((code == SQLITE_IOERR || code == SQLITE_FULL) && getrlimit(RLIMIT_FSIZE, &rl) == 0 &&
               rl.rlim_cur != RLIM_INFINITY) {
        /* a write cut short at the limit returns a count, not EFBIG, and
         * sqlite records no errno for it */
        snprintf(err, errlen, "%s: %s: %s (File too large? the file size limit, ulimit -f, is %llu bytes)",
                 db->path, what, sqlite3_errmsg(db->db), (unsigned long long)rl.rlim_cur);
    } else {
        snprintf(err, errlen, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
    }
    return LF_ERR_DB;
}

static int an_exec(struct an_db *db, const char *sql) { return sqlite3_exec(db->db, sql, NULL, NULL, NULL); }

static enum lf_status an_db_schema(struct an_db *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return an_db_fail(db, err, errlen, "not a usable database");
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (v < 0) return an_db_fail(db, err, errlen, "not a usable database");
    if (v != 0 && v != AN_DB_SCHEMA_VERSION) {
        if (err) snprintf(err, errlen, "%s: database schema version %d, expected %d", db->path, v,
                          AN_DB_SCHEMA_VERSION);
        return LF_ERR_VERSION;
    }
    if (v == AN_DB_SCHEMA_VERSION) return LF_OK;
    if (an_exec(db, "BEGIN") || an_exec(db, AN_SCHEMA) || an_exec(db, "PRAGMA user_version=1") ||
        an_exec(db, "COMMIT")) {
        enum lf_status s = an_db_fail(db, err, errlen, "cannot create schema");
        an_exec(db, "ROLLBACK");
        return s;
    }
    return LF_OK;
}

int an_busy_ms(void)
{
    const char *v = getenv("LINEIFORM_DB_TIMEOUT");
    char *end;
    double sec = v && *v ? strtod(v, &end) : -1;
    if (!v || !*v || *end || !(sec >= 0) || sec > 86400) return AN_BUSY_MS;
    return (int)(sec * 1000);
}

enum lf_status an_db_open(const char *path, int readonly, struct an_db **out, char *err, size_t errlen)
{
    static struct an_db zero;
    struct an_db *db = sqlite3_malloc(sizeof *db);
    if (!db) return LF_ERR_NOMEM;
    *db = zero;
    db->path = path;
    *out = NULL;
    int fl = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    enum lf_status s = LF_OK;
    if (sqlite3_open_v2(path, &db->db, fl, NULL) != SQLITE_OK) s = an_db_fail(db, err, errlen, "cannot open database");
    db->busy_ms = an_busy_ms();
    if (s == LF_OK) sqlite3_busy_timeout(db->db, db->busy_ms);
    if (s == LF_OK && readonly && an_exec(db, "PRAGMA query_only=1")) s = an_db_fail(db, err, errlen, "cannot open");
    if (s == LF_OK && !readonly &&
        (an_exec(db, "PRAGMA journal_mode=DELETE") || an_exec(db, "PRAGMA synchronous=NORMAL") ||
         an_exec(db, "PRAGMA cache_size=-65536")))
        s = an_db_fail(db, err, errlen, "not a usable database");
    if (s == LF_OK && !readonly) s = an_db_schema(db, err, errlen);
    if (s != LF_OK) { an_db_close(db); return s; }
    *out = db;
    return LF_OK;
}

void an_db_close(struct an_db *db)
{
    if (!db) return;
    sqlite3_close(db->db);
    sqlite3_free(db);
}

/* -- Lookup ----------------------------------------------------------------- */

#define AN_SUMMARY_COLS "id, build_id, n_functions, n_with_proto, n_blocks, n_edges, n_loops, n_indirect," \
    " n_jump_tables, n_liftable, n_symtab, n_dynsym, n_eh_frame, n_plt, elapsed_ms"

int an_db_lookup(struct an_db *db, const char *abspath, const char *build_id, const char *hash,
                 struct an_db_summary *o, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db, "SELECT " AN_SUMMARY_COLS " FROM binaries WHERE path=? AND build_id=?"
                                   " AND content_hash=?", -1, &st, NULL) != SQLITE_OK) {
        an_db_fail(db, err, errlen, "cannot read");
        return -1;
    }
    sqlite3_bind_text(st, 1, abspath, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, build_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), found = 0;
    if (r == SQLITE_ROW) {
        found = 1;
        o->id = sqlite3_column_int64(st, 0);
        snprintf(o->build_id, sizeof o->build_id, "%s", (const char *)sqlite3_column_text(st, 1) ?: "");
        unsigned *u[] = { &o->n_functions, &o->n_with_proto, &o->n_blocks, &o->n_edges, &o->n_loops,
                          &o->n_indirect, &o->n_jump_tables, &o->n_liftable, &o->n_symtab, &o->n_dynsym,
                          &o->n_eh_frame, &o->n_plt };
        for (int i = 0; i < 12; i++) *u[i] = (unsigned)sqlite3_column_int64(st, 2 + i);
        o->elapsed_ms = sqlite3_column_double(st, 14);
    } else if (r != SQLITE_DONE) {
        an_db_fail(db, err, errlen, "cannot read");
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

void an_summarize(const struct an_binary *b, struct an_db_summary *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->build_id, sizeof o->build_id, "%s", b->build_id);
    o->n_functions = b->n_funcs;
    o->n_with_proto = b->n_with_proto;
    for (unsigned i = 0; i < b->n_funcs; i++) {
        const struct an_func *f = &b->funcs[i];
        o->n_blocks += f->n_blocks;
        o->n_edges += f->n_edges;
        o->n_loops += f->n_loops;
        o->n_indirect += f->n_indirect;
        o->n_jump_tables += f->cfg ? f->cfg->n_jump_tables : 0;
        o->n_liftable += f->liftable == 1;
        unsigned *src[] = { &o->n_symtab, &o->n_dynsym, &o->n_eh_frame, &o->n_plt, &o->n_calls, &o->n_gopclntab };
        (*src[f->source])++;
    }
}

/* -- Store ------------------------------------------------------------------- */

enum { Q_BIN, Q_SEG, Q_SEC, Q_FUNC, Q_PARAM, Q_BLOCK, Q_EDGE, Q_LOOP, Q_LOOPBLK, Q_JT, Q_JTT, Q_SITE, Q__MAX };

static const char *const an_insert_sql[Q__MAX] = {
    "INSERT INTO binaries(id, path, build_id, content_hash, file_size, elf_type, pie, load_base, entry,"
    " has_dwarf, stripped, n_functions, n_with_proto, n_blocks, n_edges, n_loops, n_indirect, n_jump_tables,"
    " n_liftable, n_symtab, n_dynsym, n_eh_frame, n_plt, analyzed_at, elapsed_ms)"
    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO segments VALUES(?,?,?,?,?,?)",
    "INSERT INTO sections VALUES(?,?,?,?,?,?,?)",
    "INSERT INTO functions VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO params VALUES(?,?,?,?,?,?)",
    "INSERT INTO blocks VALUES(?,?,?,?,?,?,?,?)",
    "INSERT INTO edges VALUES(?,?,?,?,?)",
    "INSERT INTO loops VALUES(?,?,?,?,?,?,?)",
    "INSERT INTO loop_blocks VALUES(?,?)",
    "INSERT INTO jump_tables VALUES(?,?,?,?,?,?,?,?)",
    "INSERT INTO jump_table_targets VALUES(?,?,?,?)",
    "INSERT INTO indirect_sites VALUES(?,?,?,?,?,?)",
};

/* The bulk tables (all their text columns are static strings) are written
 * AN_BATCH rows per statement: sqlite's per-statement cost dominates rows
 * this small.  A batch holds the bound values until it is full. */
#define AN_BATCH 64
#define AN_BATCH_COLS 8
struct an_cell { char kind; int64_t i; const char *t; };
struct an_batch { sqlite3_stmt *multi; unsigned n, ncol; struct an_cell cell[AN_BATCH * AN_BATCH_COLS]; };

struct an_writer {
    struct an_db *db;
    sqlite3_stmt *q[Q__MAX];
    struct an_batch *batch[Q__MAX]; /* NULL: the table is written row by row */
    const struct an_binary *b;
    int64_t bin_id, next_func, next_block, next_loop, next_jt;
    int rc;
};

static int an_is_bulk(int q) { return q == Q_BLOCK || q == Q_EDGE || q == Q_LOOPBLK || q == Q_JTT; }

/* "INSERT INTO t VALUES(?,?)" -> "INSERT INTO t VALUES(?,?),(?,?),..." */
static sqlite3_stmt *an_prepare_multi(struct an_db *db, const char *one, unsigned *ncol)
{
    const char *tuple = strstr(one, "VALUES");
    if (!tuple) return NULL;
    tuple += 6;
    size_t head = (size_t)(tuple - one), tl = strlen(tuple);
    char *sql = sqlite3_malloc((int)(head + AN_BATCH * (tl + 1) + 1));
    if (!sql) return NULL;
    memcpy(sql, one, head);
    char *p = sql + head;
    for (unsigned r = 0; r < AN_BATCH; r++) {
        if (r) *p++ = ',';
        memcpy(p, tuple, tl);
        p += tl;
    }
    *p = 0;
    *ncol = 0;
    for (const char *c = tuple; *c; c++) *ncol += *c == '?';
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) st = NULL;
    sqlite3_free(sql);
    return st;
}

static void an_bind_cell(sqlite3_stmt *st, int i, const struct an_cell *c)
{
    if (c->kind == 'i') sqlite3_bind_int64(st, i, c->i);
    else if (c->kind == 't' && c->t) sqlite3_bind_text(st, i, c->t, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

/* Write the batched rows: a full batch in one statement, a partial one
 * row by row with the single-row statement. */
static void an_flush(struct an_writer *w, int q)
{
    struct an_batch *bt = w->batch[q];
    if (!bt || !bt->n || (w->rc != SQLITE_OK && w->rc != SQLITE_DONE)) return;
    if (bt->n == AN_BATCH) {
        for (unsigned k = 0; k < AN_BATCH * bt->ncol; k++) an_bind_cell(bt->multi, (int)k + 1, &bt->cell[k]);
        w->rc = sqlite3_step(bt->multi);
        sqlite3_reset(bt->multi);
    } else {
        for (unsigned r = 0; r < bt->n && (w->rc == SQLITE_OK || w->rc == SQLITE_DONE); r++) {
            for (unsigned c = 0; c < bt->ncol; c++) an_bind_cell(w->q[q], (int)c + 1, &bt->cell[r * bt->ncol + c]);
            w->rc = sqlite3_step(w->q[q]);
            sqlite3_reset(w->q[q]);
        }
    }
    bt->n = 0;
}

/* A row given as a format, one letter per column: i int64, t text (a NULL
 * pointer binds NULL; text must outlive the row, see an_flush), d double,
 * n NULL (its int64 argument is consumed and ignored, so a column can
 * switch between i and n). */
static void an_row(struct an_writer *w, int q, const char *fmt, ...)
{
    if (w->rc != SQLITE_OK && w->rc != SQLITE_DONE) return;
    struct an_batch *bt = w->batch[q];
    struct an_cell *cell = bt ? &bt->cell[bt->n * bt->ncol] : NULL;
    sqlite3_stmt *st = w->q[q];
    va_list ap;
    va_start(ap, fmt);
    for (int i = 1; *fmt; fmt++, i++) {
        struct an_cell c = { *fmt, 0, NULL };
        if (*fmt == 'i' || *fmt == 'n') c.i = va_arg(ap, int64_t);
        else if (*fmt == 't') c.t = va_arg(ap, const char *);
        if (cell) { cell[i - 1] = c; continue; }
        if (*fmt == 'd') sqlite3_bind_double(st, i, va_arg(ap, double));
        else an_bind_cell(st, i, &c);
    }
    va_end(ap);
    if (bt) {
        if (++bt->n == AN_BATCH) an_flush(w, q);
        return;
    }
    w->rc = sqlite3_step(st);
    sqlite3_reset(st);
}

static int64_t an_off(const struct an_writer *w, uint64_t vaddr) { return (int64_t)(vaddr - w->b->load_base); }

static int64_t an_max_id(struct an_db *db, const char *table)
{
    char sql[96];
    sqlite3_stmt *st;
    int64_t v = 0;
    snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(id),0) FROM %s", table);
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int an_delete_path(struct an_db *db, const char *abspath)
{
    static const char *const del[] = {
        "DELETE FROM loop_blocks WHERE loop_id IN (SELECT l.id FROM loops l JOIN functions f ON l.function_id=f.id"
        " JOIN binaries b ON f.binary_id=b.id WHERE b.path=?1)",
        "DELETE FROM jump_table_targets WHERE jump_table_id IN (SELECT j.id FROM jump_tables j JOIN functions f"
        " ON j.function_id=f.id JOIN binaries b ON f.binary_id=b.id WHERE b.path=?1)",
        "DELETE FROM %s WHERE function_id IN (SELECT f.id FROM functions f JOIN binaries b ON f.binary_id=b.id"
        " WHERE b.path=?1)",
        "DELETE FROM %s WHERE binary_id IN (SELECT id FROM binaries WHERE path=?1)",
        "DELETE FROM binaries WHERE path=?1",
    };
    static const char *const ftabs[] = { "params", "blocks", "edges", "loops", "jump_tables", "indirect_sites" };
    static const char *const btabs[] = { "functions", "segments", "sections" };
    char sql[512];
    for (int k = 0; k < 12; k++) {
        const char *tmpl = k < 2 ? del[k] : k < 8 ? del[2] : k < 11 ? del[3] : del[4];
        snprintf(sql, sizeof sql, tmpl, k >= 2 && k < 8 ? ftabs[k - 2] : k >= 8 && k < 11 ? btabs[k - 8] : "");
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
        sqlite3_bind_text(st, 1, abspath, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        sqlite3_finalize(st);
        if (r != SQLITE_DONE) return -1;
    }
    return 0;
}

static void an_store_binary(struct an_writer *w, const char *abspath, double ms)
{
    const struct an_binary *b = w->b;
    struct an_db_summary s;
    an_summarize(b, &s);
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    an_row(w, Q_BIN, "itttitiiiii" "iiiiiiiiiiii" "td", w->bin_id, abspath, b->build_id, b->content_hash,
           (int64_t)b->file_size, b->e_type == 2 ? "EXEC" : "DYN", (int64_t)b->pie, (int64_t)b->load_base,
           an_off(w, b->entry), (int64_t)b->has_dwarf, (int64_t)b->stripped, (int64_t)s.n_functions,
           (int64_t)s.n_with_proto, (int64_t)s.n_blocks, (int64_t)s.n_edges, (int64_t)s.n_loops,
           (int64_t)s.n_indirect, (int64_t)s.n_jump_tables, (int64_t)s.n_liftable, (int64_t)s.n_symtab,
           (int64_t)s.n_dynsym, (int64_t)s.n_eh_frame, (int64_t)s.n_plt, when, ms);
    for (unsigned i = 0; i < b->n_segments; i++) {
        const struct an_segment *g = &b->segments[i];
        char fl[4] = { g->flags & 4 ? 'r' : '-', g->flags & 2 ? 'w' : '-', g->flags & 1 ? 'x' : '-', 0 };
        an_row(w, Q_SEG, "iiiiit", w->bin_id, an_off(w, g->vaddr), (int64_t)g->memsz, (int64_t)g->offset,
               (int64_t)g->filesz, fl);
    }
    for (unsigned i = 0; i < b->n_sections; i++) {
        const struct an_section *c = &b->sections[i];
        an_row(w, Q_SEC, "itiiiii", w->bin_id, c->name, c->addr ? an_off(w, c->addr) : 0, (int64_t)c->size,
               (int64_t)c->offset, (int64_t)c->type, (int64_t)c->flags);
    }
}

static void an_store_cfg(struct an_writer *w, int64_t fid, const struct an_cfg *c)
{
    int64_t b0 = w->next_block, l0 = w->next_loop, j0 = w->next_jt;
    w->next_block += c->n_blocks;
    w->next_loop += c->n_loops;
    w->next_jt += c->n_jump_tables;
    for (unsigned i = 0; i < c->n_blocks; i++) {
        const struct an_block *bl = &c->blocks[i];
        int64_t idom = bl->idom == AN_NONE ? -1 : b0 + bl->idom;
        an_row(w, Q_BLOCK, idom < 0 ? "iiiiinii" : "iiiiiiii", b0 + i, fid, an_off(w, bl->addr),
               (int64_t)bl->size, (int64_t)bl->n_insns, idom < 0 ? (int64_t)0 : idom, (int64_t)bl->loop_depth,
               (int64_t)(i == c->entry));
    }
    for (unsigned i = 0; i < c->n_edges; i++) {
        const struct an_edge *e = &c->edges[i];
        char fmt[6] = "iiiit";
        if (e->to == AN_NONE) fmt[2] = 'n';
        if (!e->target) fmt[3] = 'n';
        an_row(w, Q_EDGE, fmt, fid, b0 + e->from, e->to == AN_NONE ? (int64_t)0 : b0 + e->to,
               e->target ? an_off(w, e->target) : (int64_t)0, an_edge_kind_name(e->kind));
    }
    for (unsigned i = 0; i < c->n_loops; i++) {
        const struct an_loop *l = &c->loops[i];
        an_row(w, Q_LOOP, l->parent == AN_NONE ? "iiiniii" : "iiiiiii", l0 + i, fid, b0 + l->header,
               l->parent == AN_NONE ? (int64_t)0 : l0 + l->parent, (int64_t)l->depth, (int64_t)l->n_blocks,
               (int64_t)l->n_back_edges);
        for (unsigned k = 0; k < l->n_blocks; k++) an_row(w, Q_LOOPBLK, "ii", l0 + i, b0 + l->blocks[k]);
    }
    for (unsigned i = 0; i < c->n_jump_tables; i++) {
        const struct an_jump_table *t = &c->jump_tables[i];
        an_row(w, Q_JT, "iiiiiiii", j0 + i, fid, an_off(w, t->site), an_off(w, t->table),
               (int64_t)t->entry_size, (int64_t)t->relative, (int64_t)t->n_entries, (int64_t)t->bounded);
        for (unsigned k = 0; k < t->n_entries; k++) {
            uint32_t blk = AN_NONE;
            for (unsigned x = 0; x < c->n_blocks && blk == AN_NONE; x++)
                if (c->blocks[x].addr == t->targets[k]) blk = x;
            an_row(w, Q_JTT, blk == AN_NONE ? "iiin" : "iiii", j0 + i, (int64_t)k, an_off(w, t->targets[k]),
                   blk == AN_NONE ? (int64_t)0 : b0 + blk);
        }
    }
    for (unsigned i = 0; i < c->n_sites; i++) {
        const struct an_indirect_site *s = &c->sites[i];
        an_row(w, Q_SITE, s->jump_table < 0 ? "iiittn" : "iiitti", fid, b0 + s->block, an_off(w, s->addr),
               s->is_call ? "call" : "jmp", s->text, s->jump_table < 0 ? (int64_t)0 : j0 + s->jump_table);
    }
}

static int64_t an_parent_id(const struct an_writer *w, const struct an_func *f)
{
    const struct an_func *p = f->parent_addr ? an_func_at(w->b, f->parent_addr) : NULL;
    return p ? w->next_func + (p - w->b->funcs) : -1;
}

static void an_store_funcs(struct an_writer *w)
{
    static const char *const src[] = { "symtab", "dynsym", "eh_frame", "plt", "calls", "gopclntab" };
    const struct an_binary *b = w->b;
    for (unsigned i = 0; i < b->n_funcs; i++) {
        const struct an_func *f = &b->funcs[i];
        int64_t fid = w->next_func + i, parent = an_parent_id(w, f);
        char rc[40], fmt[24] = "iitiititiiiittiiiiiiiit";
        _Static_assert(sizeof fmt == 24, "23 columns in functions");
        if (parent < 0) fmt[8] = 'n';
        if (f->liftable < 0) fmt[20] = 'n';
        if (!f->unsupported_addr) fmt[21] = 'n';
        an_row(w, Q_FUNC, fmt, fid, w->bin_id, f->name, an_off(w, f->addr), (int64_t)f->size, src[f->source],
               (int64_t)f->is_plt, f->plt_target, parent < 0 ? (int64_t)0 : parent, (int64_t)f->has_proto,
               (int64_t)f->variadic, (int64_t)f->noreturn, f->ret.ctype,
               f->has_proto ? an_param_class_str(&f->ret, rc, sizeof rc) : NULL,
               (int64_t)f->nparams, (int64_t)f->n_blocks, (int64_t)f->n_edges, (int64_t)f->n_insns,
               (int64_t)f->n_loops, (int64_t)f->n_indirect, (int64_t)f->liftable,
               f->unsupported_addr ? an_off(w, f->unsupported_addr) : (int64_t)0, f->unsupported_text);
        for (int k = 0; k < f->nparams; k++)
            an_row(w, Q_PARAM, "iittit", fid, (int64_t)k, f->params[k].name, f->params[k].ctype,
                   (int64_t)f->params[k].size, an_param_class_str(&f->params[k], rc, sizeof rc));
        if (f->cfg) an_store_cfg(w, fid, f->cfg);
    }
}

enum lf_status an_db_store(struct an_db *db, const char *abspath, const struct an_binary *b, double elapsed_ms,
                           char *err, size_t errlen)
{
    struct an_writer w = { .db = db, .b = b, .rc = SQLITE_OK };
    enum lf_status s = LF_OK;
    if (an_exec(db, "BEGIN IMMEDIATE")) return an_db_fail(db, err, errlen, "cannot write");
    if (an_delete_path(db, abspath) < 0) s = an_db_fail(db, err, errlen, "cannot write");
    w.bin_id = an_max_id(db, "binaries") + 1;
    w.next_func = an_max_id(db, "functions") + 1;
    w.next_block = an_max_id(db, "blocks") + 1;
    w.next_loop = an_max_id(db, "loops") + 1;
    w.next_jt = an_max_id(db, "jump_tables") + 1;
    for (int i = 0; i < Q__MAX && s == LF_OK; i++) {
        if (sqlite3_prepare_v3(db->db, an_insert_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w.q[i], NULL) != SQLITE_OK)
            s = an_db_fail(db, err, errlen, "cannot write");
        if (s != LF_OK || !an_is_bulk(i)) continue;
        if (!(w.batch[i] = sqlite3_malloc(sizeof *w.batch[i]))) { s = LF_ERR_NOMEM; break; }
        w.batch[i]->n = 0;
        w.batch[i]->multi = an_prepare_multi(db, an_insert_sql[i], &w.batch[i]->ncol);
        if (!w.batch[i]->multi || w.batch[i]->ncol > AN_BATCH_COLS) s = an_db_fail(db, err, errlen, "cannot write");
    }
    if (s == LF_OK) {
        an_store_binary(&w, abspath, elapsed_ms);
        an_store_funcs(&w);
        for (int i = 0; i < Q__MAX; i++) an_flush(&w, i);
        if (w.rc != SQLITE_OK && w.rc != SQLITE_DONE) s = an_db_fail(db, err, errlen, "cannot write");
    }
    for (int i = 0; i < Q__MAX; i++) {
        sqlite3_finalize(w.q[i]);
        if (w.batch[i]) sqlite3_finalize(w.batch[i]->multi);
        sqlite3_free(w.batch[i]);
    }
    if (s == LF_OK && an_exec(db, "COMMIT")) s = an_db_fail(db, err, errlen, "cannot commit");
    if (s != LF_OK) an_exec(db, "ROLLBACK");
    return s;
}
