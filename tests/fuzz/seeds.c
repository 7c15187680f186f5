/* seeds.c - writes a seed corpus from a unit test's table of inputs, one file
 * per case: built three times by CMakeLists.txt with SEED_TEST (the unit test
 * source) and SEED_FIELD (the member of its `cases` that holds the input).
 *
 *     fuzz_seeds_event DIR     writes DIR/test-000, DIR/test-001, ...
 *
 * scripts/fuzz --seeds runs them; the files are committed under corpus/. */
#define main unit_test_main
#include SEED_TEST
#undef main

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].SEED_FIELD;
        char path[4096];
        snprintf(path, sizeof path, "%s/test-%03zu", argv[1], i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(in, 1, strlen(in), f) != strlen(in)) {
            perror(path);
            rc = 1;
        }
        if (f && fclose(f)) rc = 1;
    }
    return rc;
}
