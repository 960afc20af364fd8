/* an_store.h -- the sqlite metadata database: write an analysis, find a
 * cached one.  The schema is documented in README.md ("Metadata database
 * schema") and created by an_db_open; every address column holds an offset
 * from binaries.load_base.
 *
 * Invariants:
 *   1. an_db_store writes in one transaction: either every row of the
 *      binary is there or (on any failure) the database is as it was.
 *   2. A binary is keyed by its absolute path; storing it again replaces
 *      all of its rows. */
#ifndef AN_STORE_H
#define AN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/analyzer.h"

struct an_db;

#define AN_DB_SCHEMA_VERSION 1

/* How long (ms) to wait for another process's lock on the database:
 * $LINEIFORM_DB_TIMEOUT seconds when set, else 60 s. */
int an_busy_ms(void);

/* Open (creating the file and schema unless readonly).  err gets one line
 * naming the file and the problem. */
enum lf_status an_db_open(const char *path, int readonly, struct an_db **out, char *err, size_t errlen);
void an_db_close(struct an_db *db);

/* Totals stored with a binary (binaries table), for the summary. */
struct an_db_summary {
    int64_t id;
    char build_id[80];
    unsigned n_functions, n_with_proto, n_blocks, n_edges, n_loops, n_indirect, n_jump_tables, n_liftable;
    unsigned n_symtab, n_dynsym, n_eh_frame, n_plt;
    unsigned n_calls;     /* found from the entry point (not kept in the binaries row) */
    unsigned n_gopclntab; /* from a Go program's .gopclntab (idem) */
    double elapsed_ms;
};

/* 1 and *out filled when abspath is stored with this build-id and content
 * hash, 0 when not, <0 on a database error (message in err). */
int an_db_lookup(struct an_db *db, const char *abspath, const char *build_id, const char *hash,
                 struct an_db_summary *out, char *err, size_t errlen);

/* Totals of an analysis (what an_db_store stores in binaries). */
void an_summarize(const struct an_binary *b, struct an_db_summary *out);

/* Replace abspath's rows by the analysis b (one transaction). */
enum lf_status an_db_store(struct an_db *db, const char *abspath, const struct an_binary *b,
                           double elapsed_ms, char *err, size_t errlen);

#endif
