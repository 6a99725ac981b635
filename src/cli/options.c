/*
 * options.c - command-line options with checked number parsing.
 *
 * Every number is parsed whole: trailing garbage, overflow, NaN and values
 * out of range are usage errors (exit 1) that name the option and the value.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_usage(FILE *f)
{
    fputs(
"Usage: neardup cluster|dedup|pairs [OPTIONS] [FILE|DIR ...]\n"
"  or:  neardup index add|query|stats|evict --index DIR ...  (index --help)\n"
"  or:  neardup --help | --version\n"
"\n"
"  cluster   one JSON line per document: {\"id\", \"cluster\", \"rep\"}\n"
"  dedup     the input records of cluster representatives, in input order\n"
"  pairs     the verified pairs: {\"a\", \"b\", \"jaccard\", \"containment\"}\n"
"\n"
"Input: JSONL (default), TSV or CSV with a header, text (one document a line) or\n"
"directories (one document a file); .gz/.zst read as is; no FILE or - = stdin.\n"
"  --format F          jsonl|tsv|csv|text (default: by extension)\n"
"  --id-field F        JSONL/TSV field of the id (default id; else \"FILE:LINE\")\n"
"  --text-field F      field of the text (default text)\n"
"  --time-field F      field of a time (RFC 3339 or seconds): --keep, --window\n"
"  --source-field F    field of the source name, for --keep source (source)\n"
"  --skip-bad          warn about bad records and go on (default: stop, exit 65)\n"
"  --strict            invalid UTF-8 is a bad record (default: repaired)\n"
"  --max-record-bytes SIZE  a longer record is a bad record (default 64M)\n"
"Similarity:\n"
"  --threshold T       similarity to match, in (0, 1] (default 0.4)\n"
"  --measure M         jaccard|containment (default jaccard)\n"
"  --containment C     with jaccard: also match at containment >= C (0.65)\n"
"  --glyph-ngram N     OCR-proof character N-grams, N in 1..8 (default 8)\n"
"  --ngram N           word N-gram shingles instead\n"
"  --char-ngram N      character N-gram shingles instead\n"
"  --num-perm K        MinHash values per document (default 128)\n"
"  --sketch S          oph|kperm|cminhash signature scheme (default oph)\n"
"  --bands B --rows R  LSH layout (default: derived from the threshold)\n"
"  --exact             verify by exact scores (keeps shingle sets in memory)\n"
"  --seed S            hash seed (default 1)\n"
"  --keep P            representative: first|longest|earliest|source (first)\n"
"  --source-priority FILE  for --keep source: one source a line, preferred first\n"
"  --window D          never match texts further apart in time (72h, 3d, 90m)\n"
"  --cluster C         attach|components|guarded (default attach: no chaining)\n"
"  --figures F         pairs must share this fraction of their figures (0.8)\n"
"  --boilerplate F     ignore shingles in more than F of the documents (0.02)\n"
"  --explain           pairs: exact scores, shared passage (first 5000 words)\n"
"Run:\n"
"  -o, --output FILE   write FILE atomically (default stdout)\n"
"  --threads N         worker threads, 0 = all cores (default 0)\n"
"  --memory SIZE       bound candidate generation (512M, 2G), spilling to disk\n"
"  --tmpdir DIR        spill and spool folder (default $TMPDIR, else /tmp)\n"
"  --stats             a summary line on stderr at the end (--stats-json FILE)\n"
"  -q, --quiet         no progress, no warnings (--progress: also off a tty)\n"
"\n"
"Exit: 0 ok, 1 usage error, 2 I/O error, 65 bad input data.\n", f);
}

static int bad_value(const char *opt, const char *val, const char *want)
{
    cli_error("%s: '%s' is not %s", opt, val, want);
    return EXIT_USAGE;
}

static int parse_uint(const char *opt, const char *s, unsigned long long lo,
                      unsigned long long hi, const char *want,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return bad_value(opt, s, want);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return bad_value(opt, s, want);
    *out = v;
    return -1;
}

static int parse_unit(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v) || !(v > 0.0 && v <= 1.0))
        return bad_value(opt, s, "a number in (0, 1]");
    *out = v;
    return -1;
}

enum {
    O_THRESHOLD = 256, O_NGRAM, O_CHAR_NGRAM, O_GLYPH_NGRAM, O_SKETCH,
    O_NUM_PERM, O_BANDS, O_ROWS,
    O_THREADS, O_SEED, O_MEASURE, O_KEEP, O_FORMAT, O_ID_FIELD, O_TEXT_FIELD,
    O_TIME_FIELD, O_STATS, O_SKIP_BAD, O_STRICT, O_EXACT, O_CONTAINMENT,
    O_CLUSTER, O_FIGURES, O_BOILERPLATE, O_SOURCE_FIELD, O_SOURCE_PRIORITY,
    O_WINDOW, O_EXPLAIN, O_MEMORY, O_TMPDIR, O_MAX_RECORD,
    O_PROGRESS, O_STATS_JSON, O_MIN_WORDS
};

static const struct option longopts[] = {
    {"threshold", required_argument, NULL, O_THRESHOLD},
    {"ngram", required_argument, NULL, O_NGRAM},
    {"char-ngram", required_argument, NULL, O_CHAR_NGRAM},
    {"glyph-ngram", required_argument, NULL, O_GLYPH_NGRAM},
    {"num-perm", required_argument, NULL, O_NUM_PERM},
    {"bands", required_argument, NULL, O_BANDS},
    {"rows", required_argument, NULL, O_ROWS},
    {"threads", required_argument, NULL, O_THREADS},
    {"seed", required_argument, NULL, O_SEED},
    {"measure", required_argument, NULL, O_MEASURE},
    {"sketch", required_argument, NULL, O_SKETCH},
    {"containment", required_argument, NULL, O_CONTAINMENT},
    {"keep", required_argument, NULL, O_KEEP},
    {"cluster", required_argument, NULL, O_CLUSTER},
    {"figures", required_argument, NULL, O_FIGURES},
    {"boilerplate", required_argument, NULL, O_BOILERPLATE},
    {"format", required_argument, NULL, O_FORMAT},
    {"id-field", required_argument, NULL, O_ID_FIELD},
    {"text-field", required_argument, NULL, O_TEXT_FIELD},
    {"time-field", required_argument, NULL, O_TIME_FIELD},
    {"source-field", required_argument, NULL, O_SOURCE_FIELD},
    {"source-priority", required_argument, NULL, O_SOURCE_PRIORITY},
    {"window", required_argument, NULL, O_WINDOW},
    {"explain", no_argument, NULL, O_EXPLAIN},
    {"memory", required_argument, NULL, O_MEMORY},
    {"max-record-bytes", required_argument, NULL, O_MAX_RECORD},
    {"tmpdir", required_argument, NULL, O_TMPDIR},
    {"output", required_argument, NULL, 'o'},
    {"stats", no_argument, NULL, O_STATS},
    {"progress", no_argument, NULL, O_PROGRESS},
    {"stats-json", required_argument, NULL, O_STATS_JSON},
    {"min-words", required_argument, NULL, O_MIN_WORDS},
    {"quiet", no_argument, NULL, 'q'},
    {"skip-bad", no_argument, NULL, O_SKIP_BAD},
    {"strict", no_argument, NULL, O_STRICT},
    {"exact", no_argument, NULL, O_EXACT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/*
 * A duration: a whole number and a unit, s, m, h or d ("72h", "3d"), at
 * least a second and at most 100000 days.
 */
static int parse_duration(const char *opt, const char *s, double *out)
{
    static const char units[] = "smhd";
    static const double secs[] = {1, 60, 3600, 86400};
    const char *want = "a duration like 72h, 3d, 90m or 3600s";
    size_t n = strlen(s);
    const char *u = n ? strchr(units, s[n - 1]) : NULL;
    if (!u || !*u || n < 2 || n > 24)
        return bad_value(opt, s, want);
    char num[24];
    memcpy(num, s, n - 1);
    num[n - 1] = '\0';
    char *end;
    errno = 0;
    if (num[0] < '0' || num[0] > '9')
        return bad_value(opt, s, want);
    unsigned long long v = strtoull(num, &end, 10);
    double t = (double)v * secs[u - units];
    if (errno || *end || v == 0 || t > 100000.0 * 86400)
        return bad_value(opt, s, want);
    *out = t;
    return -1;
}

/*
 * A size in bytes: a whole number and an optional unit K, M, G or T
 * (powers of 1024, either case), more than 0 and less than 2^64.
 */
static int parse_size(const char *opt, const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    const char *want = "a size like 512M or 2G (units K, M, G, T)";
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return bad_value(opt, s, want);
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (*end) {
        const char *u = strchr(units, end[0] & ~0x20);
        if (!u || !*u || end[1])
            return bad_value(opt, s, want);
        shift = 10 * (unsigned)(u - units + 1);
    }
    if (errno || v == 0 || v > (UINT64_MAX >> shift))
        return bad_value(opt, s, want);
    *out = (uint64_t)v << shift;
    return -1;
}

/*
 * Edit distance of a and b (optimal string alignment: insertions,
 * deletions, substitutions and swaps of two neighbours cost 1), or a large
 * value when either is longer than 63 bytes.
 */
static unsigned edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    enum { MAX = 63 };
    unsigned d[MAX + 1][MAX + 1];
    if (na > MAX || nb > MAX)
        return 1000;
    for (size_t i = 0; i <= na; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[na][nb];
}

const char *cli_closest(const char *typed, size_t len, const char *const *names)
{
    const char *best = NULL;
    unsigned best_d = 0;
    for (size_t i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        /* a typo is a slip of a letter or two, not another word */
        unsigned most = n <= 4 ? 1 : n <= 8 ? 2 : 3;
        unsigned d = edit_distance(typed, len, names[i], n);
        if (d <= most && d < len && (!best || d < best_d)) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

/* Index of s in the NULL-terminated names, or -1 (a usage error printed,
 * with the name meant when s is a slip of one). */
static int pick(const char *opt, const char *s, const char *const *names,
                const char *want)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    const char *near = cli_closest(s, strlen(s), names);
    if (near)
        cli_error("%s: '%s' is not %s; did you mean '%s'?", opt, s, want, near);
    else
        bad_value(opt, s, want);
    return -1;
}

/* Long options of other commands, offered as suggestions (cli_suggest_also). */
static const char *const *other_names;

void cli_suggest_also(const char *const *names)
{
    other_names = names;
}

/*
 * An unknown option: its name (without dashes and "=value") compared with
 * the long options, so "--treshold" or "-threshold" is answered with
 * "did you mean '--threshold'?".
 */
static void unknown_option(const char *arg)
{
    const char *name = arg + strspn(arg, "-");
    size_t len = strcspn(name, "=");
    enum { NLONG = sizeof longopts / sizeof longopts[0], NOTHER = 15 };
    const char *names[NLONG + NOTHER];
    size_t n = 0;
    for (size_t i = 0; longopts[i].name; i++)
        names[n++] = longopts[i].name;
    for (size_t i = 0; other_names && other_names[i] && i < NOTHER; i++)
        names[n++] = other_names[i];
    names[n] = NULL;
    /* getopt refuses a prefix of several options ("--thr") as unknown */
    char list[400] = "";
    size_t used = 0, k = 0;
    for (size_t i = 0; len && arg[1] == '-' && longopts[i].name; i++)
        if (strncmp(longopts[i].name, name, len) == 0 && used < sizeof list - 64) {
            int w = snprintf(list + used, sizeof list - used, "%s--%s",
                             k++ ? ", " : "", longopts[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
    if (k > 1) {
        cli_error("option '%s' is ambiguous: %s", arg, list);
        return;
    }
    const char *near = cli_closest(name, len, names);
    if (near)
        cli_error("unknown option '%s'; did you mean '--%s'?", arg, near);
    else
        cli_error("unknown option '%s'", arg);
}

int cli_parse(cli_opts *o, cli_cmd cmd, int argc, char **argv)
{
    static const char *const measures[] = {"jaccard", "containment", NULL};
    static const char *const sketches[] = {"kperm", "oph", "cminhash", NULL};
    static const char *const keeps[] = {"first", "longest", "earliest", "source",
                                        NULL};
    static const char *const methods[] = {"components", "guarded", "attach", NULL};
    static const char *const formats[] = {"auto", "jsonl", "tsv", "text",
                                           "csv", NULL};
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    nd_params_init(&o->params);
    o->reader.format = ND_FORMAT_AUTO;
    o->reader.id_field = "id";
    o->reader.text_field = "text";
    int have_word = 0, have_char = 0, have_glyph = 0, c, rc;
    const char *source_field = "source";
    unsigned long long v;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also forgets a cut-short "-qX" */
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        const char *opt = optind > 1 ? argv[optind - 1] : "";
        rc = -1;
        switch (c) {
        case O_THRESHOLD: rc = parse_unit("--threshold", optarg, &o->params.threshold); break;
        case O_CONTAINMENT:
            if (strcmp(optarg, "0") == 0)
                o->params.containment = 0.0;
            else
                rc = parse_unit("--containment", optarg, &o->params.containment);
            break;
        case O_FIGURES:
            if (strcmp(optarg, "0") == 0)
                o->params.figures = 0.0;
            else
                rc = parse_unit("--figures", optarg, &o->params.figures);
            break;
        case O_BOILERPLATE:
            if (strcmp(optarg, "0") == 0)
                o->params.boilerplate = 0.0;
            else
                rc = parse_unit("--boilerplate", optarg, &o->params.boilerplate);
            break;
        case O_NGRAM:
            rc = parse_uint("--ngram", optarg, 1, 64, "an integer in 1..64", &v);
            o->params.ngram = (unsigned)v;
            o->params.shingle = ND_SHINGLE_WORD;
            have_word = 1;
            break;
        case O_CHAR_NGRAM:
            rc = parse_uint("--char-ngram", optarg, 1, 64, "an integer in 1..64", &v);
            o->params.ngram = (unsigned)v;
            o->params.shingle = ND_SHINGLE_CHAR;
            have_char = 1;
            break;
        case O_GLYPH_NGRAM:
            rc = parse_uint("--glyph-ngram", optarg, 1, 8, "an integer in 1..8", &v);
            o->params.ngram = (unsigned)v;
            o->params.shingle = ND_SHINGLE_GLYPH;
            have_glyph = 1;
            break;
        case O_NUM_PERM:
            rc = parse_uint("--num-perm", optarg, 1, 4096, "an integer in 1..4096", &v);
            o->params.num_perm = (unsigned)v;
            break;
        case O_BANDS:
            rc = parse_uint("--bands", optarg, 1, 4096, "an integer in 1..4096", &v);
            o->params.bands = (unsigned)v;
            break;
        case O_ROWS:
            rc = parse_uint("--rows", optarg, 1, 4096, "an integer in 1..4096", &v);
            o->params.rows = (unsigned)v;
            break;
        case O_THREADS:
            rc = parse_uint("--threads", optarg, 0, 1024, "an integer in 0..1024", &v);
            o->params.threads = (unsigned)v;
            break;
        case O_SEED:
            rc = parse_uint("--seed", optarg, 0, UINT64_MAX, "an unsigned 64-bit integer", &v);
            o->params.seed = v;
            break;
        case O_MEASURE: {
            int i = pick("--measure", optarg, measures, "jaccard or containment");
            if (i < 0)
                return EXIT_USAGE;
            o->params.measure = (nd_measure)i;
            break;
        }
        case O_SKETCH: {
            int i = pick("--sketch", optarg, sketches, "kperm, oph or cminhash");
            if (i < 0)
                return EXIT_USAGE;
            o->params.sketch = (nd_sketch_algo)i;
            break;
        }
        case O_KEEP: {
            int i = pick("--keep", optarg, keeps,
                         "first, longest, earliest or source");
            if (i < 0)
                return EXIT_USAGE;
            o->params.keep = (nd_keep)i;
            break;
        }
        case O_CLUSTER: {
            int i = pick("--cluster", optarg, methods, "components, guarded or attach");
            if (i < 0)
                return EXIT_USAGE;
            o->params.cluster = (nd_cluster_method)i;
            break;
        }
        case O_FORMAT: {
            int i = pick("--format", optarg, formats, "jsonl, tsv, csv or text");
            if (i < 0)
                return EXIT_USAGE;
            o->reader.format = (nd_format)i;
            break;
        }
        case O_ID_FIELD: o->reader.id_field = optarg; break;
        case O_TEXT_FIELD: o->reader.text_field = optarg; break;
        case O_TIME_FIELD: o->reader.time_field = optarg; break;
        case O_SOURCE_FIELD: source_field = optarg; break;
        case O_SOURCE_PRIORITY: o->source_priority = optarg; break;
        case O_WINDOW: rc = parse_duration("--window", optarg, &o->params.window); break;
        case O_EXPLAIN: o->explain = 1; break;
        case O_MEMORY: rc = parse_size("--memory", optarg, &o->params.memory); break;
        case O_MAX_RECORD:
            rc = parse_size("--max-record-bytes", optarg,
                            &o->reader.max_record_bytes);
            break;
        case O_TMPDIR: o->params.tmpdir = optarg; break;
        case 'o': o->output = optarg; break;
        case O_STATS: o->stats = 1; break;
        case O_PROGRESS: o->progress = 1; break;
        case O_STATS_JSON: o->stats_json = optarg; break;
        case O_MIN_WORDS:
            rc = parse_uint("--min-words", optarg, 0, 1000000,
                            "an integer in 0..1000000", &v);
            o->params.min_words = (unsigned)v;
            break;
        case 'q': o->quiet = 1; break;
        case O_SKIP_BAD: o->skip_bad = 1; break;
        case O_STRICT: o->params.norm |= ND_NORM_STRICT_UTF8; break;
        case O_EXACT: o->params.exact = 1; break;
        case 'h': cli_usage(stdout); return EXIT_OK;
        case ':':
            cli_error("option '%s' needs a value", opt);
            fputs("Try 'neardup --help'.\n", stderr);
            return EXIT_USAGE;
        default: {
            /* getopt stops on the first letter of "-threshold" (a long
             * option with one dash) without passing the word */
            const char *w = optind < argc ? argv[optind] : "";
            if (optopt && w[0] == '-' && w[1] == optopt && w[2])
                unknown_option(w);
            else if (optopt)
                cli_error("unknown option '-%c'", optopt);
            else
                unknown_option(opt);
            fputs("Try 'neardup --help'.\n", stderr);
            return EXIT_USAGE;
        }
        }
        if (rc != -1)
            return rc;
    }
    if (have_word + have_char + have_glyph > 1) {
        cli_error("--ngram, --char-ngram and --glyph-ngram exclude each other");
        return EXIT_USAGE;
    }
    if (o->params.keep == ND_KEEP_EARLIEST && !o->reader.time_field) {
        cli_error("--keep earliest needs --time-field");
        return EXIT_USAGE;
    }
    if ((o->params.keep == ND_KEEP_SOURCE) != (o->source_priority != NULL)) {
        cli_error("--keep source and --source-priority go together");
        return EXIT_USAGE;
    }
    if (o->params.keep == ND_KEEP_SOURCE)
        o->reader.source_field = source_field;
    if (o->params.window > 0.0 && !o->reader.time_field) {
        cli_error("--window needs --time-field");
        return EXIT_USAGE;
    }
    if (o->explain && cmd != CMD_PAIRS) {
        cli_error("--explain works with pairs only");
        return EXIT_USAGE;
    }
    if (!o->params.tmpdir)
        o->params.tmpdir = getenv("TMPDIR");
    char msg[200];
    if (nd_params_check(&o->params, msg, sizeof msg) != ND_OK) {
        cli_error("%s", msg);
        return EXIT_USAGE;
    }
    o->paths = argv + optind;
    o->npaths = (size_t)(argc - optind);
    return -1;
}

int cli_batch_command(const char *name, cli_cmd *cmd)
{
    static const struct {
        const char *name;
        cli_cmd cmd;
    } cmds[] = {{"cluster", CMD_CLUSTER}, {"dedup", CMD_DEDUP}, {"pairs", CMD_PAIRS}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(name, cmds[i].name)) {
            *cmd = cmds[i].cmd;
            return 1;
        }
    return 0;
}
