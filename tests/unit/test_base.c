/* tests/unit/test_base.c — core/base and core/sha256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/base.h"
#include "core/sha256.h"

static void test_rng_repeatable(void **state) {
    (void)state;
    slm_rng a, b;
    slm_rng_seed(&a, 42);
    slm_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++) assert_int_equal(slm_rng_u64(&a), slm_rng_u64(&b));
    double sum = 0, sum2 = 0;
    for (int i = 0; i < 100000; i++) {
        float u = slm_rng_uniform(&a);
        assert_true(u >= 0.0f && u < 1.0f);
        float z = slm_rng_normal(&a);
        sum += z;
        sum2 += (double)z * z;
    }
    assert_true(fabs(sum / 100000) < 0.02);
    assert_true(fabs(sum2 / 100000 - 1.0) < 0.03);
}

static void test_f16_roundtrip(void **state) {
    (void)state;
    /* every finite half converts to float and back exactly */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00) continue;
        float f = slm_f16_to_f32((uint16_t)h);
        assert_int_equal(slm_f32_to_f16(f), h);
    }
    assert_true(slm_f16_to_f32(0x3c00) == 1.0f);
    assert_true(slm_f16_to_f32(0xc000) == -2.0f);
    /* ties round to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 */
    assert_int_equal(slm_f32_to_f16(1.0f + 0x1.0p-11f), 0x3c00);
    assert_int_equal(slm_f32_to_f16(1.0f + 3 * 0x1.0p-11f), 0x3c02);
    assert_int_equal(slm_f32_to_f16(65536.0f), 0x7c00);
}

static void test_bf16(void **state) {
    (void)state;
    assert_int_equal(slm_f32_to_bf16(1.0f), 0x3f80);
    assert_true(slm_bf16_to_f32(0x3f80) == 1.0f);
    assert_int_equal(slm_f32_to_bf16(1.0f + 0x1.0p-8f), 0x3f80);     /* tie -> even */
    assert_int_equal(slm_f32_to_bf16(1.0f + 3 * 0x1.0p-8f), 0x3f82); /* tie -> even */
    assert_true(isnan(slm_bf16_to_f32(slm_f32_to_bf16(NAN))));
}

static void sha_hex(const char *msg, size_t n, char out[65]) {
    slm_sha256 s;
    uint8_t d[32];
    slm_sha256_init(&s);
    slm_sha256_update(&s, msg, n);
    slm_sha256_final(&s, d);
    slm_sha256_hex(d, out);
}

static void test_sha256_vectors(void **state) {
    (void)state;
    char hex[65];
    /* FIPS 180-2 appendix B test vectors */
    sha_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sha_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_status_exit_codes(void **state) {
    (void)state;
    assert_int_equal(slm_status_exit_code(SLM_OK), 0);
    assert_int_equal(slm_status_exit_code(SLM_ERR_FORMAT), 2);
    assert_int_equal(slm_status_exit_code(SLM_ERR_USAGE), 2);
    assert_int_equal(slm_status_exit_code(SLM_ERR_LOCKED), 3);
    assert_int_equal(slm_status_exit_code(SLM_ERR_IO), 1);
    size_t out;
    assert_false(slm_mul_size(SIZE_MAX / 2, 3, &out));
    assert_true(slm_mul_size(1000, 1000, &out) && out == 1000000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_repeatable), cmocka_unit_test(test_f16_roundtrip),
        cmocka_unit_test(test_bf16),           cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_status_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
