#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *slot_key(const void *ctx, uint32_t i)
{
    return ((const ingest_batch *)ctx)->slots[i].d.dossier_id;
}

static const char *bucket_key(const void *ctx, uint32_t i)
{
    return ((const ingest_batch *)ctx)->buckets[i].key;
}

static const char *event_key(const void *ctx, uint32_t i)
{
    const ingest_batch *b = ctx;
    return b->arena.p + b->items[i].event_id;
}

void batch_init(ingest_batch *b)
{
    memset(b, 0, sizeof *b);
    tthc_sb_init(&b->arena, (size_t)UINT32_MAX - 1);
    tthc_strmap_init(&b->slotmap, slot_key, b);
    tthc_strmap_init(&b->bucketmap, bucket_key, b);
    tthc_strmap_init(&b->evmap, event_key, b);
}

static void free_contents(ingest_batch *b)
{
    for (size_t i = 0; i < b->nrejects; i++) {
        free(b->rejects[i].key);
        free(b->rejects[i].value);
    }
    for (size_t i = 0; i < b->nslots; i++) tthc_dossier_clear(&b->slots[i].d);
}

void batch_reset(ingest_batch *b)
{
    free_contents(b);
    b->nitems = b->nrejects = b->nparts = b->nslots = b->nbuckets = b->nkeep = b->nblocked = 0;
    b->messages = b->bytes = b->duplicates = 0;
    b->parse_us = 0;
    tthc_sb_reset(&b->arena);
    memset(b->applied_by_type, 0, sizeof b->applied_by_type);
    tthc_strmap_clear(&b->slotmap);
    tthc_strmap_clear(&b->bucketmap);
    tthc_strmap_clear(&b->evmap);
}

void batch_free(ingest_batch *b)
{
    free_contents(b);
    free(b->items);
    free(b->rejects);
    free(b->parts);
    free(b->slots);
    free(b->buckets);
    free(b->blocked);
    tthc_sb_free(&b->arena);
    tthc_strmap_free(&b->slotmap);
    tthc_strmap_free(&b->bucketmap);
    tthc_strmap_free(&b->evmap);
    memset(b, 0, sizeof *b);
}

size_t batch_count(const ingest_batch *b)
{
    return b->messages;
}

/* Grows *arr (element size sz) to hold n+1 elements. */
static int reserve(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap) return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *p = realloc(*arr, c * sz);
    if (!p) return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static char *dup_bytes(const void *p, size_t n)
{
    char *c = malloc(n + 1);
    if (!c) return NULL;
    if (n) memcpy(c, p, n);
    c[n] = '\0';
    return c;
}

static int note_partition(ingest_batch *b, int32_t partition, int64_t offset)
{
    for (size_t i = 0; i < b->nparts; i++)
        if (b->parts[i].partition == partition) {
            if (offset + 1 > b->parts[i].next) b->parts[i].next = offset + 1;
            return 0;
        }
    if (reserve((void **)&b->parts, &b->capparts, b->nparts, sizeof *b->parts)) return -1;
    b->parts[b->nparts++] =
        (ingest_batch_part){.partition = partition, .first = offset, .next = offset + 1, .expected = -1};
    return 0;
}

static int add_reject(ingest_batch *b, int32_t partition, int64_t offset, int64_t ts_ms, const void *key,
                      size_t key_len, const void *value, size_t value_len, const tthc_reject *rej, tthc_event_type type)
{
    if (reserve((void **)&b->rejects, &b->caprejects, b->nrejects, sizeof *b->rejects)) return -1;
    ingest_batch_reject *r = &b->rejects[b->nrejects];
    memset(r, 0, sizeof *r);
    r->partition = partition;
    r->offset = offset;
    r->ts_ms = ts_ms;
    r->rej = *rej;
    r->type = type;
    r->item = BATCH_NONE;
    if (key && !(r->key = dup_bytes(key, key_len))) return -1;
    r->key_len = key ? key_len : 0;
    if (!(r->value = dup_bytes(value, value_len))) {
        free(r->key);
        return -1;
    }
    r->value_len = value_len;
    b->nrejects++;
    return 0;
}

/* Copies n bytes (plus a NUL) into the arena; *off = their offset. */
static int arena_put(ingest_batch *b, const void *p, size_t n, uint32_t *off)
{
    if (b->arena.len + n + 1 >= (size_t)UINT32_MAX) return -1;
    *off = (uint32_t)b->arena.len;
    if (tthc_sb_add(&b->arena, p, n) || tthc_sb_addc(&b->arena, '\0')) return -1;
    return 0;
}

static int arena_str(ingest_batch *b, const char *s, uint32_t *off)
{
    return arena_put(b, s, strlen(s), off);
}

const char *batch_item_dossier(const ingest_batch *b, const ingest_batch_item *it)
{
    return b->arena.p + it->dossier_id;
}

static void copy_out(const ingest_batch *b, uint32_t off, char *dst, size_t cap)
{
    if (off == BATCH_NONE) {
        dst[0] = '\0';
        return;
    }
    const char *src = b->arena.p + off; /* truncated to cap - 1 bytes, as snprintf would (per field, per fold) */
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void batch_item_event(const ingest_batch *b, const ingest_batch_item *it, tthc_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = (tthc_event_type)it->type;
    copy_out(b, it->event_id, ev->event_id, sizeof ev->event_id);
    copy_out(b, it->dossier_id, ev->dossier_id, sizeof ev->dossier_id);
    copy_out(b, it->unit_code, ev->unit_code, sizeof ev->unit_code);
    copy_out(b, it->procedure_code, ev->procedure_code, sizeof ev->procedure_code);
    copy_out(b, it->payment_id, ev->payment_id, sizeof ev->payment_id);
    ev->channel = it->channel;
    ev->applicant_type = it->applicant_type;
    ev->scope = it->scope;
    ev->id_kind = it->id_kind;
    ev->reuse_source = it->reuse_source;
    ev->has_due = it->has_due;
    ev->pay_online = it->pay_online;
    ev->electronic = it->electronic;
    ev->satisfied = it->satisfied;
    ev->received_at = it->received_at;
    ev->due_at = it->due_at;
    ev->finished_at = it->finished_at;
}

static int pack(ingest_batch *b, ingest_batch_item *it, const tthc_event *ev)
{
    it->type = (uint8_t)ev->type;
    it->channel = ev->channel;
    it->applicant_type = ev->applicant_type;
    it->scope = ev->scope;
    it->id_kind = ev->id_kind;
    it->reuse_source = ev->reuse_source;
    it->has_due = ev->has_due;
    it->pay_online = ev->pay_online;
    it->electronic = ev->electronic;
    it->satisfied = ev->satisfied;
    it->received_at = ev->received_at;
    it->due_at = ev->due_at;
    it->finished_at = ev->finished_at;
    it->unit_code = it->procedure_code = it->payment_id = BATCH_NONE;
    it->raw = it->key = BATCH_NONE;
    it->raw_len = it->key_len = 0;
    if (arena_str(b, ev->event_id, &it->event_id) || arena_str(b, ev->dossier_id, &it->dossier_id)) return -1;
    if (ev->type == TTHC_EV_RECEIVED &&
        (arena_str(b, ev->unit_code, &it->unit_code) || arena_str(b, ev->procedure_code, &it->procedure_code)))
        return -1;
    if (ev->type == TTHC_EV_PAID && arena_str(b, ev->payment_id, &it->payment_id)) return -1;
    return 0;
}

int batch_add(ingest_batch *b, int32_t partition, int64_t offset, int64_t ts_ms, const void *key, size_t key_len,
              const void *value, size_t value_len)
{
    if (note_partition(b, partition, offset)) return -1;
    b->bytes += value_len;
    b->messages++;
    if (reserve((void **)&b->items, &b->capitems, b->nitems, sizeof *b->items)) return -1;
    ingest_batch_item *it = &b->items[b->nitems];
    tthc_event ev;
    tthc_reject rej;
    if (tthc_event_parse(value, value_len, &ev, &rej, NULL)) {
        if (add_reject(b, partition, offset, ts_ms, key, key_len, value ? value : "", value ? value_len : 0, &rej,
                       TTHC_EV__COUNT))
            return -1;
        b->nkeep = b->nrejects;
        return 0;
    }
    it->partition = partition;
    it->flags = 0;
    it->len = value_len > UINT32_MAX ? UINT32_MAX : (uint32_t)value_len;
    it->offset = offset;
    it->ts_ms = ts_ms;
    if (pack(b, it, &ev)) return -1;
    if (ev.type == TTHC_EV_RECEIVED) {
        if (arena_put(b, value, value_len, &it->raw)) return -1;
        it->raw_len = (uint32_t)value_len;
        if (key) {
            if (arena_put(b, key, key_len, &it->key)) return -1;
            it->key_len = (uint32_t)key_len;
        }
    }
    b->nitems++;
    return 0;
}

ingest_batch_slot *batch_slot_find(ingest_batch *b, const char *dossier_id)
{
    int64_t i = tthc_strmap_get(&b->slotmap, dossier_id);
    return i < 0 ? NULL : &b->slots[i];
}

int batch_prepare_slots(ingest_batch *b)
{
    for (size_t i = 0; i < b->nslots; i++) tthc_dossier_clear(&b->slots[i].d);
    b->nslots = 0;
    tthc_strmap_clear(&b->slotmap);
    tthc_strmap_clear(&b->evmap);
    for (size_t i = 0; i < b->nitems; i++) {
        ingest_batch_item *it = &b->items[i];
        it->flags &= (uint8_t) ~(BATCH_DB_APPLIED | BATCH_APPLIED);
        it->first = it->slot = BATCH_NONE;
        if (it->flags & BATCH_EXCLUDED) continue;
        int64_t first = tthc_strmap_get(&b->evmap, b->arena.p + it->event_id);
        if (first < 0 && tthc_strmap_put(&b->evmap, (uint32_t)i, NULL)) return -1;
        it->first = first < 0 ? (uint32_t)i : (uint32_t)first;
        const char *id = batch_item_dossier(b, it);
        int64_t slot = tthc_strmap_get(&b->slotmap, id);
        if (slot >= 0) {
            it->slot = (uint32_t)slot;
            continue;
        }
        if (reserve((void **)&b->slots, &b->capslots, b->nslots, sizeof *b->slots)) return -1;
        ingest_batch_slot *s = &b->slots[b->nslots];
        memset(s, 0, sizeof *s);
        tthc_dossier_init(&s->d, id);
        if (tthc_strmap_put(&b->slotmap, (uint32_t)b->nslots, NULL)) return -1;
        it->slot = (uint32_t)b->nslots++;
    }
    return 0;
}

bool batch_mark_applied(ingest_batch *b, const char *event_id, bool applied)
{
    int64_t i = tthc_strmap_get(&b->evmap, event_id);
    if (i < 0) return false;
    if (applied) b->items[i].flags |= BATCH_DB_APPLIED;
    else b->items[i].flags &= (uint8_t)~BATCH_DB_APPLIED;
    return true;
}

/* Frees the rejects a fold added (conflicts): they are found again. */
static void drop_fold_rejects(ingest_batch *b)
{
    while (b->nrejects > b->nkeep) {
        b->nrejects--;
        free(b->rejects[b->nrejects].key);
        free(b->rejects[b->nrejects].value);
    }
}

int batch_exclude_item(ingest_batch *b, size_t i, const char *detail, const void *key, size_t key_len,
                       const void *value, size_t value_len)
{
    drop_fold_rejects(b);
    ingest_batch_item *it = &b->items[i];
    tthc_reject rej = {.reason = TTHC_REJ_REJECTED_BY_STORE};
    snprintf(rej.detail, sizeof rej.detail, "%s", detail);
    if (add_reject(b, it->partition, it->offset, it->ts_ms, key, key_len, value ? value : "", value ? value_len : 0,
                   &rej, (tthc_event_type)it->type))
        return -1;
    b->rejects[b->nrejects - 1].item = (uint32_t)i;
    b->nkeep = b->nrejects;
    it->flags |= BATCH_EXCLUDED;
    return 0;
}

int batch_drop_partition(ingest_batch *b, int32_t partition)
{
    uint32_t *map = malloc(sizeof *map * (b->nitems + 1));
    if (!map || reserve((void **)&b->blocked, &b->capblocked, b->nblocked, sizeof *b->blocked)) {
        free(map);
        return -1;
    }
    drop_fold_rejects(b);
    size_t w = 0, dropped = 0, bytes = 0;
    for (size_t i = 0; i < b->nitems; i++) {
        map[i] = BATCH_NONE;
        if (b->items[i].partition == partition) {
            dropped++;
            bytes += b->items[i].len;
            continue;
        }
        map[i] = (uint32_t)w;
        b->items[w++] = b->items[i];
    }
    b->nitems = w;
    w = 0;
    for (size_t i = 0; i < b->nrejects; i++) {
        ingest_batch_reject *r = &b->rejects[i];
        if (r->partition == partition) {
            if (r->item == BATCH_NONE) { /* a malformed message, not an item */
                dropped++;
                bytes += r->value_len;
            }
            free(r->key);
            free(r->value);
            continue;
        }
        if (r->item != BATCH_NONE) r->item = map[r->item];
        b->rejects[w++] = *r;
    }
    b->nrejects = b->nkeep = w;
    free(map);
    w = 0;
    for (size_t i = 0; i < b->nparts; i++)
        if (b->parts[i].partition != partition) b->parts[w++] = b->parts[i];
    b->nparts = w;
    b->messages -= dropped < b->messages ? dropped : b->messages;
    b->bytes -= bytes < b->bytes ? bytes : b->bytes;
    b->blocked[b->nblocked++] = partition;
    for (size_t i = 0; i < b->nslots; i++) tthc_dossier_clear(&b->slots[i].d);
    b->nslots = 0;
    tthc_strmap_clear(&b->slotmap);
    tthc_strmap_clear(&b->evmap);
    return 0;
}

static int add_delta(ingest_batch *b, const char *unit, const char *period, const tthc_counts *delta)
{
    char key[sizeof b->buckets[0].key];
    snprintf(key, sizeof key, "%s|%s", unit, period);
    int64_t i = tthc_strmap_get(&b->bucketmap, key);
    if (i < 0) {
        if (reserve((void **)&b->buckets, &b->capbuckets, b->nbuckets, sizeof *b->buckets)) return -1;
        ingest_batch_bucket *bk = &b->buckets[b->nbuckets];
        memset(bk, 0, sizeof *bk);
        memcpy(bk->key, key, sizeof key);
        snprintf(bk->unit, sizeof bk->unit, "%s", unit);
        memcpy(bk->period, period, sizeof bk->period);
        if (tthc_strmap_put(&b->bucketmap, (uint32_t)b->nbuckets, NULL)) return -1;
        i = (int64_t)b->nbuckets++;
    }
    for (int c = 0; c < TTHC_C__COUNT; c++) b->buckets[i].delta.c[c] += delta->c[c];
    return 0;
}

bool batch_bucket_empty(const ingest_batch_bucket *bk)
{
    for (int c = 0; c < TTHC_C__COUNT; c++)
        if (bk->delta.c[c]) return false;
    return true;
}

int batch_fold(ingest_batch *b, size_t limit)
{
    b->nbuckets = 0;
    b->duplicates = 0;
    memset(b->applied_by_type, 0, sizeof b->applied_by_type);
    tthc_strmap_clear(&b->bucketmap);
    drop_fold_rejects(b); /* conflicts found by an earlier attempt of this batch are found again */
    if (limit > b->nitems) limit = b->nitems;
    for (size_t i = 0; i < b->nslots; i++) {
        tthc_dossier_contrib(&b->slots[i].d, &b->slots[i].before);
        b->slots[i].changes_before = b->slots[i].d.changes;
        b->slots[i].dirty = false;
    }
    for (size_t i = 0; i < b->nitems; i++) b->items[i].flags &= (uint8_t)~BATCH_APPLIED;
    for (size_t i = 0; i < limit; i++) {
        ingest_batch_item *it = &b->items[i];
        if (it->flags & BATCH_EXCLUDED) continue;
        ingest_batch_item *fi = &b->items[it->first];         /* set for every item not excluded */
        if (fi->flags & (BATCH_DB_APPLIED | BATCH_APPLIED)) { /* this event_id was applied: nothing changes */
            b->duplicates++;
            continue;
        }
        tthc_event ev;
        batch_item_event(b, it, &ev);
        ingest_batch_slot *s = &b->slots[it->slot];
        tthc_apply_result r;
        if (tthc_dossier_apply(&s->d, &ev, &r, NULL)) return -1;
        if (r == TTHC_APPLY_CHANGED) {
            fi->flags |= BATCH_APPLIED;
            b->applied_by_type[ev.type]++;
        } else {
            tthc_reject rej = {.reason = TTHC_REJ_RECEIPT_CONFLICT};
            snprintf(rej.field, sizeof rej.field, "received");
            snprintf(rej.detail, sizeof rej.detail,
                     "a receipt for this dossier with another unit_code, procedure_code, channel or received_at was "
                     "applied first");
            const char *key = it->key == BATCH_NONE ? NULL : b->arena.p + it->key;
            if (add_reject(b, it->partition, it->offset, it->ts_ms, key, it->key_len, b->arena.p + it->raw, it->raw_len,
                           &rej, ev.type))
                return -1;
            b->rejects[b->nrejects - 1].item = (uint32_t)i;
            b->rejects[b->nrejects - 1].acked = (it->flags & BATCH_DLQ_ACKED) != 0;
        }
    }
    for (size_t i = 0; i < b->nslots; i++) {
        ingest_batch_slot *s = &b->slots[i];
        s->dirty = s->d.changes != s->changes_before;
        if (!s->dirty || !s->d.received) continue;
        tthc_counts after, delta;
        tthc_dossier_contrib(&s->d, &after);
        bool any = false;
        for (int c = 0; c < TTHC_C__COUNT; c++) {
            delta.c[c] = after.c[c] - s->before.c[c];
            any |= delta.c[c] != 0;
        }
        if (!any) continue;
        char province[TTHC_UNIT_MAX + 1];
        tthc_unit_province(s->d.unit_code, province, sizeof province);
        if (add_delta(b, s->d.unit_code, s->d.period, &delta) || add_delta(b, province, s->d.period, &delta)) return -1;
    }
    return 0;
}
