/* YAML text -> struct sg_conf_node tree with line numbers, built from
 * libyaml's event parser so that every node keeps the line it was written on
 * and the map rules we want (no duplicate keys, scalar keys only, no
 * anchors/aliases) are enforced while the document streams by. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <yaml.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"

/* Deeper than any config needs; bounds the recursion on hostile input. */
#define MAX_DEPTH 64

struct builder {
    yaml_parser_t parser;
    struct sg_conf_errs *errs;
};

/* ---- paths and small node helpers ---- */

char *sg_conf_path_key(const char *parent, const char *key)
{
    if (!parent || !*parent)
        return sg_xstrdup(key);
    return sg_xasprintf("%s.%s", parent, key);
}

char *sg_conf_path_index(const char *parent, size_t i)
{
    return sg_xasprintf("%s[%zu]", parent ? parent : "", i);
}

bool sg_conf_node_is_null(const struct sg_conf_node *n)
{
    if (!n || n->type != SG_NODE_SCALAR || n->quoted)
        return false;
    const char *s = n->scalar;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

const char *sg_conf_node_kind(const struct sg_conf_node *n)
{
    switch (n->type) {
    case SG_NODE_MAP:
        return "a map";
    case SG_NODE_SEQ:
        return "a sequence";
    default:
        return sg_conf_node_is_null(n) ? "nothing" : "a scalar";
    }
}

struct sg_conf_node *sg_conf_node_new(enum sg_node_type type, int line)
{
    struct sg_conf_node *n = sg_xcalloc(1, sizeof(*n));
    n->type = type;
    n->line = line;
    return n;
}

struct sg_conf_node *sg_conf_node_new_scalar(const char *value, int line, const char *env)
{
    struct sg_conf_node *n = sg_conf_node_new(SG_NODE_SCALAR, line);
    n->scalar = sg_xstrdup(value);
    n->quoted = true;
    n->env = env;
    return n;
}

void sg_conf_node_append(struct sg_conf_node *parent, const char *key, int key_line,
                         struct sg_conf_node *value)
{
    parent->items = sg_xrealloc(parent->items, (parent->n + 1) * sizeof(*parent->items));
    if (parent->type == SG_NODE_MAP) {
        if (!key)
            abort(); /* a map entry without a key is a programming error */
        parent->keys = sg_xrealloc(parent->keys, (parent->n + 1) * sizeof(*parent->keys));
        parent->key_lines =
            sg_xrealloc(parent->key_lines, (parent->n + 1) * sizeof(*parent->key_lines));
        parent->keys[parent->n] = sg_xstrdup(key);
        parent->key_lines[parent->n] = key_line;
    }
    parent->items[parent->n++] = value;
}

static size_t map_index(const struct sg_conf_node *map, const char *key)
{
    for (size_t i = 0; i < map->n; i++) {
        if (!strcmp(map->keys[i], key))
            return i;
    }
    return map->n;
}

void sg_conf_node_set(struct sg_conf_node *map, const char *key, struct sg_conf_node *value)
{
    size_t i = map_index(map, key);
    if (i == map->n) {
        sg_conf_node_append(map, key, value->line, value);
        return;
    }
    sg_conf_tree_free(map->items[i]);
    map->items[i] = value;
    map->key_lines[i] = value->line;
}

struct sg_conf_node *sg_conf_node_take(struct sg_conf_node *map, const char *key, int *key_line)
{
    size_t i = map_index(map, key);
    if (i == map->n)
        return NULL;
    struct sg_conf_node *v = map->items[i];
    if (key_line)
        *key_line = map->key_lines[i];
    free(map->keys[i]);
    size_t rest = map->n - i - 1;
    memmove(map->keys + i, map->keys + i + 1, rest * sizeof(*map->keys));
    memmove(map->key_lines + i, map->key_lines + i + 1, rest * sizeof(*map->key_lines));
    memmove(map->items + i, map->items + i + 1, rest * sizeof(*map->items));
    map->n--;
    return v;
}

const struct sg_conf_node *sg_conf_node_get(const struct sg_conf_node *map, const char *key)
{
    if (!map || map->type != SG_NODE_MAP)
        return NULL;
    size_t i = map_index(map, key);
    return i < map->n ? map->items[i] : NULL;
}

void sg_conf_tree_free(struct sg_conf_node *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys)
            free(node->keys[i]);
        sg_conf_tree_free(node->items[i]);
    }
    free(node->keys);
    free(node->key_lines);
    free(node->items);
    free(node->scalar);
    free(node);
}

/* ---- building the tree from events ---- */

static int event_line(const yaml_event_t *ev)
{
    return (int)ev->start_mark.line + 1;
}

/* Reads the next event; a syntax error is reported with the line libyaml
 * found it on. */
static int next_event(struct builder *b, yaml_event_t *ev)
{
    if (yaml_parser_parse(&b->parser, ev))
        return SG_OK;
    const yaml_parser_t *p = &b->parser;
    int line = (int)p->problem_mark.line + 1;
    const char *problem = p->problem ? p->problem : "unreadable document";
    if (p->context)
        sg_conf_errs_add(b->errs, line, "(yaml)", "syntax error: %s (%s at line %d)", problem,
                         p->context, (int)p->context_mark.line + 1);
    else
        sg_conf_errs_add(b->errs, line, "(yaml)", "syntax error: %s", problem);
    return SG_ERR;
}

static const yaml_char_t *event_anchor(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT:
        return ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT:
        return ev->data.mapping_start.anchor;
    default:
        return NULL;
    }
}

static struct sg_conf_node *build_node(struct builder *b, yaml_event_t *ev, const char *path,
                                       int depth);

static struct sg_conf_node *build_scalar(struct builder *b, const yaml_event_t *ev,
                                         const char *path)
{
    const char *value = (const char *)ev->data.scalar.value;
    if (strlen(value) != ev->data.scalar.length) {
        sg_conf_errs_add(b->errs, event_line(ev), path, "a value must not contain a NUL character");
        return NULL;
    }
    struct sg_conf_node *n = sg_conf_node_new(SG_NODE_SCALAR, event_line(ev));
    n->scalar = sg_xstrdup(value);
    /* Quoted and block scalars are strings by their writer's choice. */
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    return n;
}

static struct sg_conf_node *build_seq(struct builder *b, const yaml_event_t *start,
                                      const char *path, int depth)
{
    struct sg_conf_node *seq = sg_conf_node_new(SG_NODE_SEQ, event_line(start));
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev) != SG_OK)
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return seq;
        }
        char *item_path = sg_conf_path_index(path, seq->n);
        struct sg_conf_node *item = build_node(b, &ev, item_path, depth + 1);
        free(item_path);
        if (!item)
            goto fail;
        sg_conf_node_append(seq, NULL, 0, item);
    }
fail:
    sg_conf_tree_free(seq);
    return NULL;
}

static struct sg_conf_node *build_map(struct builder *b, const yaml_event_t *start,
                                      const char *path, int depth)
{
    struct sg_conf_node *map = sg_conf_node_new(SG_NODE_MAP, event_line(start));
    char *key_path = NULL;
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev) != SG_OK)
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return map;
        }
        if (ev.type != YAML_SCALAR_EVENT || event_anchor(&ev)) {
            sg_conf_errs_add(b->errs, event_line(&ev), path,
                             "a map key must be a plain string (no anchor, map or sequence)");
            yaml_event_delete(&ev);
            goto fail;
        }
        const char *key = (const char *)ev.data.scalar.value;
        int key_line = event_line(&ev);
        key_path = sg_conf_path_key(path, key);
        size_t dup = map_index(map, key);
        char *key_copy = sg_xstrdup(key);
        yaml_event_delete(&ev);

        if (next_event(b, &ev) != SG_OK) {
            free(key_copy);
            goto fail;
        }
        struct sg_conf_node *value = build_node(b, &ev, key_path, depth + 1);
        if (!value) {
            free(key_copy);
            goto fail;
        }
        if (dup < map->n) {
            /* Reported, and the later value dropped, so the rest of the
             * document still gets checked. */
            sg_conf_errs_add(b->errs, key_line, key_path, "duplicate key (first at line %d)",
                             map->key_lines[dup]);
            sg_conf_tree_free(value);
        } else {
            sg_conf_node_append(map, key_copy, key_line, value);
        }
        free(key_copy);
        free(key_path);
        key_path = NULL;
    }
fail:
    free(key_path);
    sg_conf_tree_free(map);
    return NULL;
}

/* Builds the node that starts with ev (consumed here); NULL after an error. */
static struct sg_conf_node *build_node(struct builder *b, yaml_event_t *ev, const char *path,
                                       int depth)
{
    struct sg_conf_node *n = NULL;
    if (depth > MAX_DEPTH) {
        sg_conf_errs_add(b->errs, event_line(ev), path, "nested deeper than %d levels", MAX_DEPTH);
    } else if (ev->type == YAML_ALIAS_EVENT) {
        sg_conf_errs_add(b->errs, event_line(ev), path,
                         "YAML aliases (*name) are not supported; write the value out");
    } else if (event_anchor(ev)) {
        sg_conf_errs_add(b->errs, event_line(ev), path,
                         "YAML anchors (&name) are not supported; write the value out");
    } else if (ev->type == YAML_SCALAR_EVENT) {
        n = build_scalar(b, ev, path);
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        n = build_seq(b, ev, path, depth);
    } else if (ev->type == YAML_MAPPING_START_EVENT) {
        n = build_map(b, ev, path, depth);
    } else {
        sg_conf_errs_add(b->errs, event_line(ev), path, "unexpected YAML structure");
    }
    yaml_event_delete(ev);
    return n;
}

/* Stream: one document (or none: an empty file is an empty map). */
static struct sg_conf_node *build_stream(struct builder *b)
{
    struct sg_conf_node *root = NULL;
    yaml_event_t ev;
    if (next_event(b, &ev) != SG_OK) /* STREAM-START */
        return NULL;
    yaml_event_delete(&ev);
    if (next_event(b, &ev) != SG_OK)
        return NULL;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return sg_conf_node_new(SG_NODE_MAP, 1);
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (next_event(b, &ev) != SG_OK)
        return NULL;
    root = build_node(b, &ev, "", 0);
    if (!root)
        return NULL;
    if (next_event(b, &ev) != SG_OK) /* DOCUMENT-END */
        goto fail;
    yaml_event_delete(&ev);
    if (next_event(b, &ev) != SG_OK)
        goto fail;
    if (ev.type != YAML_STREAM_END_EVENT) {
        sg_conf_errs_add(b->errs, event_line(&ev), "(yaml)",
                         "a second YAML document; the config is one document");
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    return root;
fail:
    sg_conf_tree_free(root);
    return NULL;
}

struct sg_conf_node *sg_conf_tree_parse_file(const char *path, struct sg_conf_errs *errs)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sg_conf_errs_add_file(errs, path, 0, "(file)", "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        sg_conf_errs_add_file(errs, path, 0, "(file)", "is a directory, not a config file");
        fclose(f);
        return NULL;
    }
    struct builder b = {.errs = errs};
    yaml_parser_initialize(&b.parser);
    yaml_parser_set_input_file(&b.parser, f);
    struct sg_conf_node *root = build_stream(&b);
    yaml_parser_delete(&b.parser);
    fclose(f);
    return root;
}

struct sg_conf_node *sg_conf_tree_parse_string(const char *yaml, struct sg_conf_errs *errs)
{
    struct builder b = {.errs = errs};
    yaml_parser_initialize(&b.parser);
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)yaml, strlen(yaml));
    struct sg_conf_node *root = build_stream(&b);
    yaml_parser_delete(&b.parser);
    return root;
}
