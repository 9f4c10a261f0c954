/* metadata.json and revocation_list.txt of the SingleStepTests suite.
 *
 * metadata.json maps each opcode ("00", "0F01") to {status, flags-mask}, or,
 * for a group opcode, to {"reg": {"0": {...}, ...}}; the runner names the
 * latter "80.7", as the file names do.  Both files are input: a value of
 * the wrong type is an error with a message, not a crash.
 */
#include "sst.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct MetaForm {
    char name[16];
    const char *status; /* points into statuses[] */
    uint16_t mask;
    bool split;         /* the opcode itself, split by ModRM reg */
} MetaForm;

struct SstMeta {
    MetaForm *forms;
    size_t n_forms, cap_forms;
    char *statuses[32];
    size_t n_statuses;
    uint8_t (*revoked)[20];
    size_t n_revoked;
};

static const char *intern_status(SstMeta *m, const char *s)
{
    for (size_t i = 0; i < m->n_statuses; i++)
        if (strcmp(m->statuses[i], s) == 0)
            return m->statuses[i];
    if (m->n_statuses == sizeof(m->statuses) / sizeof(m->statuses[0]))
        return "other";
    m->statuses[m->n_statuses] = strdup(s);
    if (!m->statuses[m->n_statuses])
        return "other";
    return m->statuses[m->n_statuses++];
}

static MetaForm *add_form(SstMeta *m, const char *name)
{
    if (m->n_forms == m->cap_forms) {
        size_t cap = m->cap_forms ? m->cap_forms * 2 : 512;
        MetaForm *nf = realloc(m->forms, cap * sizeof(*nf));
        if (!nf)
            return NULL;
        m->forms = nf;
        m->cap_forms = cap;
    }
    MetaForm *f = &m->forms[m->n_forms++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->mask = 0xFFFF;
    f->status = "unknown";
    return f;
}

/* One {status, flags-mask} object.  Returns 0 or -1 with err filled. */
static int read_entry(SstMeta *m, MetaForm *f, json_object *o, char *err, size_t errlen)
{
    json_object *v;
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(err, errlen, "metadata.json: entry %s is not an object", f->name);
        return -1;
    }
    if (json_object_object_get_ex(o, "status", &v)) {
        if (!json_object_is_type(v, json_type_string)) {
            snprintf(err, errlen, "metadata.json: %s.status is not a string", f->name);
            return -1;
        }
        f->status = intern_status(m, json_object_get_string(v));
    }
    if (json_object_object_get_ex(o, "flags-mask", &v)) {
        if (!json_object_is_type(v, json_type_int)) {
            snprintf(err, errlen, "metadata.json: %s.flags-mask is not an integer", f->name);
            return -1;
        }
        int64_t mask = json_object_get_int64(v);
        if (mask < 0 || mask > 0xFFFF) {
            snprintf(err, errlen, "metadata.json: %s.flags-mask %lld is not a 16-bit value",
                     f->name, (long long)mask);
            return -1;
        }
        f->mask = (uint16_t)mask;
    }
    return 0;
}

static int load_json(SstMeta *m, const char *path, char *err, size_t errlen)
{
    json_object *root = json_object_from_file(path);
    if (!root) {
        snprintf(err, errlen, "%s: %s", path, json_util_get_last_err());
        return -1;
    }
    int rc = -1;
    json_object *ops;
    if (!json_object_object_get_ex(root, "opcodes", &ops) ||
        !json_object_is_type(ops, json_type_object)) {
        snprintf(err, errlen, "%s: no \"opcodes\" object", path);
        goto out;
    }
    json_object_object_foreach(ops, key, val)
    {
        if (strlen(key) > 8) {
            snprintf(err, errlen, "%s: opcode key \"%.20s\" too long", path, key);
            goto out;
        }
        MetaForm *f = add_form(m, key);
        if (!f) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (read_entry(m, f, val, err, errlen) < 0)
            goto out;
        json_object *regs;
        if (!json_object_object_get_ex(val, "reg", &regs))
            continue;
        if (!json_object_is_type(regs, json_type_object)) {
            snprintf(err, errlen, "%s: %s.reg is not an object", path, key);
            goto out;
        }
        m->forms[m->n_forms - 1].split = true;
        json_object_object_foreach(regs, rkey, rval)
        {
            if (strlen(rkey) != 1 || rkey[0] < '0' || rkey[0] > '7') {
                snprintf(err, errlen, "%s: %s.reg has key \"%.8s\"", path, key, rkey);
                goto out;
            }
            char name[16];
            snprintf(name, sizeof(name), "%s.%s", key, rkey);
            MetaForm *g = add_form(m, name);
            if (!g) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            if (read_entry(m, g, rval, err, errlen) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    json_object_put(root);
    return rc;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int cmp_hash(const void *a, const void *b) { return memcmp(a, b, 20); }

static int load_revocations(SstMeta *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char line[512];
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = 0;
        if (n == 0 || s[0] == '#')
            continue;
        uint8_t h[20];
        bool ok = n == 40;
        for (size_t i = 0; ok && i < 20; i++) {
            int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            h[i] = (uint8_t)(hi << 4 | lo);
        }
        if (!ok) {
            snprintf(err, errlen, "%s:%u: not a 40-digit hex SHA-1", path, lineno);
            rc = -1;
            break;
        }
        if (m->n_revoked == cap) {
            cap = cap ? cap * 2 : 64;
            uint8_t(*nr)[20] = realloc(m->revoked, cap * 20);
            if (!nr) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            m->revoked = nr;
        }
        memcpy(m->revoked[m->n_revoked++], h, 20);
    }
    fclose(f);
    if (rc == 0 && m->n_revoked)
        qsort(m->revoked, m->n_revoked, 20, cmp_hash);
    return rc;
}

SstMeta *sst_meta_load(const char *dir, char *err, size_t errlen)
{
    SstMeta *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/metadata.json", dir);
    if (load_json(m, path, err, errlen) < 0)
        goto fail;
    snprintf(path, sizeof(path), "%s/revocation_list.txt", dir);
    if (load_revocations(m, path, err, errlen) < 0)
        goto fail;
#ifdef SST_LOCAL_REVOCATIONS
    /* Bad captures found here, with the reason for each in the file. */
    if (load_revocations(m, SST_LOCAL_REVOCATIONS, err, errlen) < 0)
        goto fail;
#endif
    return m;
fail:
    sst_meta_free(m);
    return NULL;
}

void sst_meta_free(SstMeta *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_statuses; i++)
        free(m->statuses[i]);
    free(m->forms);
    free(m->revoked);
    free(m);
}

static const MetaForm *find(const SstMeta *m, const char *form)
{
    for (size_t i = 0; i < m->n_forms; i++)
        if (strcasecmp(m->forms[i].name, form) == 0)
            return &m->forms[i];
    return NULL;
}

SstFormInfo sst_meta_form(const SstMeta *m, const char *form)
{
    const MetaForm *f = find(m, form);
    if (!f)
        return (SstFormInfo){.status = "unknown", .flags_mask = 0xFFFF, .known = false};
    return (SstFormInfo){.status = f->status, .flags_mask = f->mask, .known = true};
}

bool sst_meta_has_reg_split(const SstMeta *m, const char *opcode)
{
    const MetaForm *f = find(m, opcode);
    return f && f->split;
}

bool sst_meta_revoked(const SstMeta *m, const uint8_t hash[20])
{
    return m->n_revoked && bsearch(hash, m->revoked, m->n_revoked, 20, cmp_hash) != NULL;
}

size_t sst_meta_n_revoked(const SstMeta *m) { return m->n_revoked; }
size_t sst_meta_n_statuses(const SstMeta *m) { return m->n_statuses; }
const char *sst_meta_status(const SstMeta *m, size_t i)
{
    return i < m->n_statuses ? m->statuses[i] : NULL;
}
