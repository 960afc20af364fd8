/* cli_analyze.c -- 'lineiform analyze BIN [--db PATH] [--force] [--json]'.
 *
 * Identify the binary (build-id + content hash, cheap), answer from the
 * database when it is stored unchanged ("cached"), otherwise analyze it
 * (analyzer/analyzer.h), store it in one transaction (analyzer/an_store.h)
 * and print a summary.  Exit 0 on success, 1 on bad input or a database
 * error (one line on stderr naming the file), 2 on a usage error. */
#include "cmd/cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/an_store.h"
#include "analyzer/analyzer.h"

struct cli_an_opts { const char *bin, *db; int force, json; };

static void cli_analyze_usage(FILE *f)
{
    fprintf(f, "usage: lineiform analyze BIN [--db PATH] [--force] [--json]\n"
               "  Analyze an x86-64 ELF executable or shared object (symbols, DWARF\n"
               "  prototypes, CFG, loops, jump tables, liftability) into the metadata\n"
               "  database ($LINEIFORM_DB, else $XDG_CACHE_HOME/lineiform/metadata.db).\n"
               "  --force  analyze again even when the database has this build\n"
               "  --json   print the summary as JSON\n");
}

static int cli_analyze_args(int argc, char **argv, struct cli_an_opts *o)
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { cli_analyze_usage(stdout); return 0; }
        if (!strcmp(argv[i], "--force")) { o->force = 1; continue; }
        if (!strcmp(argv[i], "--json")) { o->json = 1; continue; }
        if ((r = cli_opt_value(&i, argc, argv, "--db", &o->db)) != 0) { if (r < 0) return -1; continue; }
        if (argv[i][0] == '-' && argv[i][1]) { cli_error("analyze: unknown option '%s'", argv[i]); return -1; }
        if (o->bin) { cli_error("analyze: one binary at a time ('%s' and '%s')", o->bin, argv[i]); return -1; }
        o->bin = argv[i];
    }
    if (!o->bin) { cli_analyze_usage(stderr); return -1; }
    return 1;
}

struct cli_progress { double t0; int shown; };

static void cli_progress_cb(void *ctx, unsigned done, unsigned total)
{
    struct cli_progress *p = ctx;
    if (cli_now_ms() - p->t0 < 1000 && !p->shown) return;
    p->shown = 1;
    fprintf(stderr, "\ranalyzing: %u/%u functions", done, total);
    if (done == total) fputs("\r\033[K", stderr);
}

static void cli_print_summary(const struct cli_an_opts *o, const char *path, const char *db,
                              const struct an_db_summary *s, const struct an_binary *b, int cached, double ms)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double pct = s->n_functions ? 100.0 * s->n_liftable / s->n_functions : 0;
    if (o->json) {
        printf("{\"path\": ");
        cli_json_str(stdout, path);
        printf(", \"cached\": %s, \"build_id\": ", cached ? "true" : "false");
        cli_json_str(stdout, s->build_id);
        printf(", \"functions\": %u, \"symtab\": %u, \"dynsym\": %u, \"eh_frame\": %u, \"plt\": %u,"
               " \"with_prototypes\": %u, \"blocks\": %u, \"edges\": %u, \"loops\": %u, \"jump_tables\": %u,"
               " \"indirect_sites\": %u, \"liftable\": %u, \"liftable_pct\": %.1f, \"elapsed_ms\": %.1f,"
               " \"peak_rss_kb\": %ld, \"db\": ",
               s->n_functions, s->n_symtab, s->n_dynsym, s->n_eh_frame, s->n_plt, s->n_with_proto, s->n_blocks,
               s->n_edges, s->n_loops, s->n_jump_tables, s->n_indirect, s->n_liftable, pct, ms, ru.ru_maxrss);
        cli_json_str(stdout, db);
        printf("}\n");
        return;
    }
    if (cached) {
        printf("cached: %s (build-id %s): %u functions, %u with prototypes, %.1f%% liftable [%.1f ms]\n", path,
               s->build_id[0] ? s->build_id : "none", s->n_functions, s->n_with_proto, pct, ms);
        return;
    }
    printf("%s: %s, build-id %s%s%s\n", path,
           b->e_type == 2 ? "executable" : b->pie ? "PIE executable" : "shared object",
           b->build_id[0] ? b->build_id : "none", b->stripped ? ", stripped" : "",
           b->has_dwarf ? ", DWARF" : ", no DWARF");
    printf("  functions       %u (%u .symtab, %u .dynsym, %u .eh_frame, %u PLT", s->n_functions, s->n_symtab,
           s->n_dynsym, s->n_eh_frame, s->n_plt);
    if (s->n_calls) printf(", %u from the entry point and calls", s->n_calls);
    if (s->n_gopclntab) printf(", %u .gopclntab", s->n_gopclntab);
    printf("), %u with prototypes\n", s->n_with_proto);
    printf("  code            %u blocks, %u edges, %u loops, %u jump tables, %u indirect sites\n", s->n_blocks,
           s->n_edges, s->n_loops, s->n_jump_tables, s->n_indirect);
    unsigned incomplete = 0; /* reachable code not all recovered (a jump table not read) */
    for (unsigned i = 0; i < b->n_funcs; i++) incomplete += b->funcs[i].incomplete != NULL;
    printf("  liftable        %u of %u functions (%.1f%%), %u incomplete\n", s->n_liftable, s->n_functions, pct,
           incomplete);
    printf("  elapsed         %.1f ms (ELF %.1f, DWARF %.1f, code %.1f, store %.1f), peak memory %.1f MB\n", ms,
           b->ms_elf, b->ms_dwarf, b->ms_code, ms - b->ms_elf - b->ms_dwarf - b->ms_code, ru.ru_maxrss / 1024.0);
    printf("  database        %s\n", db);
}

/* 1 cached (s filled), 0 not, -1 error.  A database that does not exist
 * yet is a miss: it is created only when there is something to store. */
static int cli_cache_lookup(const char *dbpath, const char *abspath, const struct an_binary *id,
                            struct an_db_summary *s)
{
    char err[1024];
    struct an_db *db = NULL;
    if (access(dbpath, F_OK) != 0) return 0;
    if (an_db_open(dbpath, 0, &db, err, sizeof err) != LF_OK) { cli_error("%s", err); return -1; }
    int hit = an_db_lookup(db, abspath, id->build_id, id->content_hash, s, err, sizeof err);
    if (hit < 0) cli_error("%s", err);
    an_db_close(db);
    return hit;
}

static int cli_analyze_run(const struct cli_an_opts *o, const char *abspath, double t0)
{
    char err[1024], dbbuf[4096];
    struct an_binary *id = NULL, *b = NULL;
    struct an_db *db = NULL;
    struct an_db_summary s;
    int rc = CLI_EXIT_FAIL;
    if (an_open(abspath, AN_OPEN_IDENTIFY, &id, err, sizeof err) != LF_OK) { cli_error("%s", err); return rc; }
    const char *dbpath = cli_db_path(o->db, 1, dbbuf, sizeof dbbuf);
    if (!dbpath) goto out;
    int hit = o->force ? 0 : cli_cache_lookup(dbpath, abspath, id, &s);
    if (hit < 0) goto out;
    if (hit) {
        cli_print_summary(o, abspath, dbpath, &s, id, 1, cli_now_ms() - t0);
        rc = CLI_EXIT_OK;
        goto out;
    }
    struct cli_progress pr = { t0, 0 };
    if (an_open_progress(abspath, AN_OPEN_ISOLATE, isatty(2) ? cli_progress_cb : NULL, &pr, &b, err, sizeof err) != LF_OK) {
        cli_error("%s", err);
        goto out;
    }
    int show = isatty(2) && (pr.shown || cli_now_ms() - t0 > 1000);
    if (show) fputs("storing in the database...", stderr);
    enum lf_status st = an_db_open(dbpath, 0, &db, err, sizeof err);
    if (st == LF_OK) st = an_db_store(db, abspath, b, cli_now_ms() - t0, err, sizeof err);
    if (show) fputs("\r\033[K", stderr);
    if (st != LF_OK) {
        cli_error("%s", err);
        goto out;
    }
    an_summarize(b, &s);
    cli_print_summary(o, abspath, dbpath, &s, b, 0, cli_now_ms() - t0);
    rc = CLI_EXIT_OK;
out:
    an_db_close(db);
    an_close(b);
    an_close(id);
    return rc;
}

int cli_analyze(int argc, char **argv)
{
    double t0 = cli_now_ms();
    struct cli_an_opts o = { 0 };
    int r = cli_analyze_args(argc, argv, &o);
    if (r <= 0) return r < 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    char abspath[PATH_MAX];
    if (!realpath(o.bin, abspath)) {
        char err[1024];
        struct an_binary *b = NULL;
        /* an_open words the error ("No such file or directory", ...) */
        if (an_open(o.bin, AN_OPEN_IDENTIFY, &b, err, sizeof err) != LF_OK) cli_error("%s", err);
        else cli_error("%s: cannot resolve path", o.bin);
        an_close(b);
        return CLI_EXIT_FAIL;
    }
    return cli_analyze_run(&o, abspath, t0);
}
