/* tthc-ingest's DLQ copy: SHA-256 against the NIST vectors, id_number
 * masking on raw bytes (same length, everything else byte-identical), and
 * the cut of an oversized copy. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "ingest/dlqcopy.h"
#include "ingest/sha256.h"

static void check_sha(const char *in, size_t len, const char *want)
{
    char hex[65];
    sha256_hex(in, len, hex);
    CHECK_STR(hex, want);
}

/* Masks a copy of in and compares with want (same length by construction). */
static void check_mask(const char *in, const char *want, size_t count)
{
    size_t n = strlen(in);
    char *b = malloc(n + 1);
    memcpy(b, in, n + 1);
    CHECK_INT(dlqcopy_mask(b, n), count);
    CHECK(!strcmp(b, want), "mask(%s) = %s, want %s", in, b, want);
    free(b);
}

int main(void)
{
    /* FIPS 180-4 examples */
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrst"
              "nopqrstu",
              112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    check_sha(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* lengths around the padding boundary */
    check_sha(million, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_sha(million, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");

    /* masking: string values keep their quotes and length; any depth; escapes */
    check_mask("{\"id_kind\":\"citizen_id\",\"id_number\":\"079203001299\"}",
               "{\"id_kind\":\"citizen_id\",\"id_number\":\"************\"}", 1);
    check_mask("{\"id_number\" : \"0792\\\"03\\u0030\"}", "{\"id_number\" : \"**************\"}", 1);
    check_mask("{\"a\":{\"id_number\":\"123\"},\"b\":[{\"id_number\":\"45\"}]}",
               "{\"a\":{\"id_number\":\"***\"},\"b\":[{\"id_number\":\"**\"}]}", 2);
    check_mask("{\"id\\u005fnumber\":\"079203001299\"}", "{\"id\\u005fnumber\":\"************\"}", 1);
    check_mask("{\"id_number\":79203001299,\"x\":1}", "{\"id_number\":***********,\"x\":1}", 1);
    check_mask("{\"id_number\":{\"n\":\"079203001299\"}}", "{\"id_number\":********************}", 1);
    check_mask("{\"id_number\":\"0792030", "{\"id_number\":\"*******", 1); /* cut short */
    check_mask("{\"note\":\"id_number\",\"id_numbers\":\"1\"}", "{\"note\":\"id_number\",\"id_numbers\":\"1\"}", 0);
    check_mask("{\"id_number\":\"\xff\xfe"
               "12\"}",
               "{\"id_number\":\"****\"}", 1); /* not UTF-8: bytes */

    /* build: masked copy, original size and hash of the original */
    const char *v = "{\"id_number\":\"079203001299\"}";
    tthc_sb out;
    tthc_sb_init(&out, 1 << 24);
    ingest_dlqcopy_info info;
    CHECK(dlqcopy_build(v, strlen(v), 1000, false, &out, &info) == 0, "build");
    CHECK(info.masked && !info.cut, "masked only");
    CHECK_INT(info.original_size, strlen(v));
    CHECK_INT(out.len, strlen(v));
    char hex[65];
    sha256_hex(v, strlen(v), hex);
    CHECK_STR(info.sha256, hex);
    /* an unmasked copy within the limit is the original, no hash */
    CHECK(dlqcopy_build("{}", 2, 1000, false, &out, &info) == 0 && !info.masked && !info.cut && !info.sha256[0] &&
              out.len == 2,
          "unchanged");
    /* over the limit: cut to 64 KiB, hash of the original */
    CHECK(dlqcopy_build(million, 1000000, 999000, false, &out, &info) == 0, "build big");
    CHECK(info.cut && !info.masked, "cut");
    CHECK_INT(out.len, DLQCOPY_CUT_BYTES);
    CHECK_INT(info.original_size, 1000000);
    CHECK_STR(info.sha256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK(dlqcopy_build(million, 70000, 1000000, true, &out, &info) == 0 && info.cut && out.len == DLQCOPY_CUT_BYTES,
          "forced cut");
    tthc_sb_free(&out);
    free(million);
    return CHECK_DONE();
}
