/* tests/tools/unicode_check.c — compares slm's code point classes and
 * lowercase map (data/unicode.c, generated table) with llama.cpp's own, for
 * every code point 0..0x10FFFF, by calling unicode_cpt_flags_from_cpt and
 * unicode_tolower exported from libllama (dlopen).
 *   unicode_check LIBLLAMA.so     exit 0: identical, 1: differences (listed), 77: symbols absent */
#include <dlfcn.h>
#include <stdio.h>

#include "data/unicode.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: unicode_check LIBLLAMA.so\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("skip: cannot load %s: %s\n", argv[1], dlerror());
        return 77;
    }
    /* C++: unicode_cpt_flags unicode_cpt_flags_from_cpt(uint32_t) returns a
     * 2-byte trivially copyable struct (in a register); uint32_t unicode_tolower(uint32_t) */
    uint16_t (*flags)(uint32_t) = (uint16_t(*)(uint32_t))dlsym(h, "_Z26unicode_cpt_flags_from_cptj");
    uint32_t (*lower)(uint32_t) = (uint32_t(*)(uint32_t))dlsym(h, "_Z15unicode_tolowerj");
    if (!flags || !lower) {
        printf("skip: %s does not export unicode_cpt_flags_from_cpt / unicode_tolower\n", argv[1]);
        return 77;
    }
    long bad = 0;
    for (uint32_t cp = 0; cp < SLM_UNICODE_MAX; cp++) {
        uint16_t want = flags(cp) & 0x1FF, got = slm_unicode_flags(cp);
        uint32_t lw = lower(cp), lg = slm_unicode_tolower(cp);
        if (want != got || lw != lg) {
            if (bad < 20) printf("U+%06X: llama.cpp class 0x%03X lower U+%04X, slm class 0x%03X lower U+%04X\n",
                                 cp, want, lw, got, lg);
            bad++;
        }
    }
    printf("%ld of %u code points differ from llama.cpp's tables\n", bad, SLM_UNICODE_MAX);
    dlclose(h);
    return bad ? 1 : 0;
}
