/* The C API from C: every JS SDK vector minted and verified, every error path, NULL pointers,
 * buffers too small by one with guard bytes on both sides, webhooks. Built and run (under
 * valgrind when present) by ffi/tests/c_api.rs, which writes vectors.h from
 * tests/data/hs256_stream_js.jsonl. Ends with "N passed, M failed". */
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "stackjwt.h"
#include "vectors.h"

static int passed, failed;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            passed++;                                                                    \
        } else {                                                                         \
            failed++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_CODE(expr, want)                                                           \
    do {                                                                                 \
        int got_ = (expr);                                                               \
        if (got_ == (want)) {                                                            \
            passed++;                                                                    \
        } else {                                                                         \
            failed++;                                                                    \
            fprintf(stderr, "%s:%d: %s = %d (%s), want %d (%s)\n", __FILE__, __LINE__, #expr, \
                    got_, stackjwt_error_message(got_), (want), stackjwt_error_message(want)); \
        }                                                                                \
    } while (0)

static const uint64_t NOW = 1650000000;

static void init_key(stackjwt_key *key, const char *secret) {
    CHECK_CODE(stackjwt_key_init_weak(key, STACKJWT_HS256, (const uint8_t *)secret, strlen(secret)),
               STACKJWT_OK);
}

static stackjwt_verify_options options(uint64_t now, bool allow_dev) {
    stackjwt_verify_options o = STACKJWT_VERIFY_OPTIONS_INIT;
    o.now = now;
    o.allow_dev_tokens = allow_dev;
    return o;
}

/* Every vector minted byte for byte, then verified back to its claims. */
static void vectors(void) {
    char out[512];
    uint8_t scratch[STACKJWT_VERIFY_SCRATCH_LEN];
    for (size_t i = 0; i < sizeof(VECTORS) / sizeof(VECTORS[0]); i++) {
        const struct vector *v = &VECTORS[i];
        stackjwt_key key;
        size_t len = 0;
        stackjwt_verify_options o = options(NOW, v->kind == 'd');
        stackjwt_claims c;
        if (v->kind == 'd') {
            CHECK_CODE(stackjwt_dev_token(v->user_id, strlen(v->user_id), out, sizeof out, &len), STACKJWT_OK);
            CHECK_CODE(stackjwt_key_init(&key, STACKJWT_HS256, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32), STACKJWT_OK);
        } else {
            init_key(&key, v->secret);
            if (v->kind == 's') {
                CHECK_CODE(stackjwt_server_token(&key, out, sizeof out, &len), STACKJWT_OK);
            } else {
                CHECK_CODE(stackjwt_user_token(&key, v->user_id, strlen(v->user_id), v->has_exp ? &v->exp : NULL,
                                               v->has_iat ? &v->iat : NULL, out, sizeof out, &len),
                           STACKJWT_OK);
            }
        }
        CHECK(len == strlen(v->token) && strcmp(out, v->token) == 0);
        if (strcmp(out, v->token) != 0) fprintf(stderr, "vector %zu: %s\n    want %s\n", i, out, v->token);
        CHECK_CODE(stackjwt_verify(&key, v->token, strlen(v->token), &o, scratch, sizeof scratch, &c), STACKJWT_OK);
        CHECK(c.is_server == (v->kind == 's') && c.is_dev == (v->kind == 'd'));
        CHECK(c.has_exp == v->has_exp && (!v->has_exp || c.exp == v->exp));
        CHECK(c.has_iat == v->has_iat && (!v->has_iat || c.iat == v->iat) && !c.has_nbf);
        if (v->kind == 's') {
            CHECK(c.user_id == NULL && c.user_id_len == 0);
        } else {
            CHECK(c.user_id != NULL && c.user_id_len == strlen(v->user_id) && strcmp(c.user_id, v->user_id) == 0);
            CHECK((const uint8_t *)c.user_id >= scratch && (const uint8_t *)c.user_id < scratch + sizeof scratch);
        }
        stackjwt_key_clear(&key);
    }
}

/* Each rejection, with its code and (where Stream has one) its Stream code. */
static void rejections(void) {
    static const char SECRET[] = "8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
    static const char TOKEN[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiIsImV4cCI6MTcwMDAwMDAwMCwiaWF0IjoxNjAwMDAwMDAwfQ.dxMRiyBtBACQs_Pw_iVwRUq0aloMnJ8E8xo6r9kxUYs";
    stackjwt_key key;
    init_key(&key, SECRET);
    uint8_t scratch[STACKJWT_VERIFY_SCRATCH_LEN];
    stackjwt_claims c;
    stackjwt_verify_options o = options(NOW, false);
    char token[sizeof TOKEN];
    memcpy(token, TOKEN, sizeof TOKEN);
    token[sizeof TOKEN - 2] = token[sizeof TOKEN - 2] == 'A' ? 'B' : 'A';
    int r = stackjwt_verify(&key, token, strlen(token), &o, scratch, sizeof scratch, &c);
    CHECK_CODE(r, STACKJWT_ERR_SIGNATURE_MISMATCH);
    CHECK(stackjwt_stream_code(r) == 43 && c.user_id == NULL);
    stackjwt_verify_options late = options(1700000000, false);
    r = stackjwt_verify(&key, TOKEN, strlen(TOKEN), &late, scratch, sizeof scratch, &c);
    CHECK_CODE(r, STACKJWT_ERR_EXPIRED);
    CHECK(stackjwt_stream_code(r) == 40);
    stackjwt_verify_options early = options(1500000000, false);
    r = stackjwt_verify(&key, TOKEN, strlen(TOKEN), &early, scratch, sizeof scratch, &c);
    CHECK_CODE(r, STACKJWT_ERR_ISSUED_IN_FUTURE);
    CHECK(stackjwt_stream_code(r) == 42);
    stackjwt_verify_options strict = {NOW, 0, 1, 0};
    static const char NO_EXP[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.CXZll3MK_Bw66Ypy6EaQirTJW15E5JmxMGK8zX6Htb8";
    CHECK_CODE(stackjwt_verify(&key, NO_EXP, strlen(NO_EXP), &strict, scratch, sizeof scratch, &c), STACKJWT_ERR_MISSING_EXP);
    /* alg none, garbage, too long, a dev token while not allowed, a short scratch. */
    static const char NONE[] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VyX2lkIjoiam9obiJ9.CXZll3MK_Bw66Ypy6EaQirTJW15E5JmxMGK8zX6Htb8";
    CHECK_CODE(stackjwt_verify(&key, NONE, strlen(NONE), &o, scratch, sizeof scratch, &c), STACKJWT_ERR_ALGORITHM_NOT_ALLOWED);
    CHECK_CODE(stackjwt_verify(&key, "garbage", 7, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_MALFORMED);
    static char long_token[STACKJWT_MAX_TOKEN_LEN + 1];
    memset(long_token, 'a', sizeof long_token);
    CHECK_CODE(stackjwt_verify(&key, long_token, sizeof long_token, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_TOKEN_TOO_LONG);
    static const char DEV[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.devtoken";
    CHECK_CODE(stackjwt_verify(&key, DEV, strlen(DEV), &o, scratch, sizeof scratch, &c), STACKJWT_ERR_DEV_TOKEN_NOT_ALLOWED);
    CHECK_CODE(stackjwt_verify(&key, TOKEN, strlen(TOKEN), &o, scratch, 10, &c), STACKJWT_ERR_SCRATCH_TOO_SMALL);
    /* Keys: weak and empty secrets, unknown algorithms, bad kids, never-initialized keys. */
    stackjwt_key other;
    CHECK_CODE(stackjwt_key_init(&other, STACKJWT_HS256, (const uint8_t *)"secret", 6), STACKJWT_ERR_WEAK_SECRET);
    CHECK_CODE(stackjwt_key_init(&other, STACKJWT_HS512, (const uint8_t *)SECRET, 32), STACKJWT_ERR_WEAK_SECRET);
    CHECK_CODE(stackjwt_key_init_weak(&other, STACKJWT_HS256, (const uint8_t *)"", 0), STACKJWT_ERR_EMPTY_SECRET);
    CHECK_CODE(stackjwt_key_init(&other, (stackjwt_alg)7, (const uint8_t *)SECRET, 64), STACKJWT_ERR_INVALID_ARGUMENT);
    memset(&other, 0, sizeof other);
    size_t len = 99;
    char out[256];
    CHECK_CODE(stackjwt_server_token(&other, out, sizeof out, &len), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK(len == 99);
    CHECK_CODE(stackjwt_key_set_kid(&key, "a b", 3), STACKJWT_ERR_INVALID_KID);
    CHECK_CODE(stackjwt_key_set_kid(&key, "2026-11", 7), STACKJWT_OK);
    CHECK_CODE(stackjwt_server_token(&key, out, sizeof out, &len), STACKJWT_OK);
    CHECK_CODE(stackjwt_verify(&key, out, len, &o, scratch, sizeof scratch, &c), STACKJWT_OK);
    CHECK(c.is_server);
    /* User ids: empty, and not UTF-8. */
    CHECK_CODE(stackjwt_user_token(&key, "", 0, NULL, NULL, out, sizeof out, &len), STACKJWT_ERR_EMPTY_USER_ID);
    CHECK_CODE(stackjwt_user_token(&key, "\xff", 1, NULL, NULL, out, sizeof out, &len), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_dev_token("\xc3(", 2, out, sizeof out, &len), STACKJWT_ERR_INVALID_ARGUMENT);
    /* A cleared key is wiped and refused. */
    stackjwt_key_clear(&key);
    static const uint8_t ZERO[STACKJWT_KEY_SIZE];
    CHECK(memcmp(&key, ZERO, sizeof key) == 0);
    CHECK_CODE(stackjwt_verify(&key, TOKEN, strlen(TOKEN), &o, scratch, sizeof scratch, &c), STACKJWT_ERR_INVALID_ARGUMENT);
    stackjwt_key_clear(&key);
    stackjwt_key_clear(NULL);
}

/* Every required pointer, NULL in turn: STACKJWT_ERR_NULL_POINTER, and nothing written. */
static void null_pointers(void) {
    stackjwt_key key;
    init_key(&key, "secret");
    char out[256] = "untouched";
    size_t len = 77;
    uint8_t scratch[256];
    stackjwt_claims c;
    memset(&c, 0xa5, sizeof c);
    stackjwt_verify_options o = options(NOW, false);
    static const char T[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.yrpLD2gUq_TIyxMKpDBHQO391KGCNrFl-RvMT-p90MU";
    const int N = STACKJWT_ERR_NULL_POINTER;
    CHECK_CODE(stackjwt_key_init(NULL, STACKJWT_HS256, (const uint8_t *)"s", 1), N);
    CHECK_CODE(stackjwt_key_init_weak(&key, STACKJWT_HS256, NULL, 1), N);
    CHECK_CODE(stackjwt_key_set_kid(NULL, "k", 1), N);
    CHECK_CODE(stackjwt_key_set_kid(&key, NULL, 1), N);
    CHECK_CODE(stackjwt_user_token(NULL, "john", 4, NULL, NULL, out, sizeof out, &len), N);
    CHECK_CODE(stackjwt_user_token(&key, NULL, 4, NULL, NULL, out, sizeof out, &len), N);
    CHECK_CODE(stackjwt_user_token(&key, "john", 4, NULL, NULL, NULL, sizeof out, &len), N);
    CHECK_CODE(stackjwt_user_token(&key, "john", 4, NULL, NULL, out, sizeof out, NULL), N);
    CHECK_CODE(stackjwt_server_token(NULL, out, sizeof out, &len), N);
    CHECK_CODE(stackjwt_server_token(&key, NULL, sizeof out, &len), N);
    CHECK_CODE(stackjwt_server_token(&key, out, sizeof out, NULL), N);
    CHECK_CODE(stackjwt_dev_token(NULL, 4, out, sizeof out, &len), N);
    CHECK_CODE(stackjwt_dev_token("john", 4, NULL, sizeof out, &len), N);
    CHECK_CODE(stackjwt_dev_token("john", 4, out, sizeof out, NULL), N);
    CHECK(strcmp(out, "untouched") == 0 && len == 77);
    CHECK_CODE(stackjwt_verify(NULL, T, strlen(T), &o, scratch, sizeof scratch, &c), N);
    CHECK_CODE(stackjwt_verify(&key, NULL, strlen(T), &o, scratch, sizeof scratch, &c), N);
    CHECK_CODE(stackjwt_verify(&key, T, strlen(T), NULL, scratch, sizeof scratch, &c), N);
    CHECK_CODE(stackjwt_verify(&key, T, strlen(T), &o, NULL, sizeof scratch, &c), N);
    CHECK_CODE(stackjwt_verify(&key, T, strlen(T), &o, scratch, sizeof scratch, NULL), N);
    uint8_t untouched[sizeof c];
    memset(untouched, 0xa5, sizeof untouched);
    CHECK(memcmp(&c, untouched, sizeof c) == 0);
    CHECK_CODE(stackjwt_verify_webhook(NULL, (const uint8_t *)"{}", 2, "x", 1), N);
    CHECK_CODE(stackjwt_verify_webhook(&key, NULL, 2, "x", 1), N);
    CHECK_CODE(stackjwt_verify_webhook(&key, (const uint8_t *)"{}", 2, NULL, 1), N);
    stackjwt_key_clear(&key);
}

/* Buffers one byte too small, and smaller: the error, the length needed, and guard bytes on
 * both sides untouched. */
static void small_buffers(void) {
    stackjwt_key key;
    init_key(&key, "secret");
    const uint64_t exp = 1700000000;
    char full[256];
    size_t n = 0;
    CHECK_CODE(stackjwt_user_token(&key, "john", 4, &exp, NULL, full, sizeof full, &n), STACKJWT_OK);
    for (size_t cap = 0; cap <= n + 1; cap++) {
        unsigned char buf[16 + 256 + 16];
        memset(buf, 0x5a, sizeof buf);
        size_t len = 0;
        int r = stackjwt_user_token(&key, "john", 4, &exp, NULL, (char *)buf + 16, cap, &len);
        if (cap > n) {
            CHECK(r == STACKJWT_OK && len == n && memcmp(buf + 16, full, n + 1) == 0);
        } else {
            CHECK(r == STACKJWT_ERR_BUFFER_TOO_SMALL && len == n + 1);
        }
        int guards = 1;
        for (size_t i = 0; i < 16; i++) guards &= buf[i] == 0x5a;
        for (size_t i = 16 + cap; i < sizeof buf; i++) guards &= buf[i] == 0x5a;
        CHECK(guards);
    }
    stackjwt_key_clear(&key);
}

static void webhooks(void) {
    stackjwt_key key;
    init_key(&key, "Jefe");
    static const char BODY[] = "what do ya want for nothing?";
    static const char SIG[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    static const char UPPER[] = "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843";
    const uint8_t *body = (const uint8_t *)BODY;
    CHECK_CODE(stackjwt_verify_webhook(&key, body, strlen(BODY), SIG, 64), STACKJWT_OK);
    CHECK_CODE(stackjwt_verify_webhook(&key, body, strlen(BODY), UPPER, 64), STACKJWT_OK);
    int r = stackjwt_verify_webhook(&key, body, strlen(BODY) - 1, SIG, 64);
    CHECK_CODE(r, STACKJWT_ERR_SIGNATURE_MISMATCH);
    CHECK_CODE(stackjwt_verify_webhook(&key, body, strlen(BODY), SIG, 62), STACKJWT_ERR_INVALID_WEBHOOK_SIGNATURE);
    CHECK_CODE(stackjwt_verify_webhook(&key, body, strlen(BODY), "zz", 2), STACKJWT_ERR_INVALID_WEBHOOK_SIGNATURE);
    stackjwt_key hs512;
    static const char LONG[] = "8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
    CHECK_CODE(stackjwt_key_init(&hs512, STACKJWT_HS512, (const uint8_t *)LONG, 64), STACKJWT_OK);
    CHECK_CODE(stackjwt_verify_webhook(&hs512, body, strlen(BODY), SIG, 64), STACKJWT_ERR_ALGORITHM_NOT_ALLOWED);
    stackjwt_key_clear(&hs512);
    stackjwt_key_clear(&key);
}

static void messages_and_layout(void) {
    for (int code = -120; code <= 5; code++) {
        const char *m = stackjwt_error_message(code);
        CHECK(m != NULL && m[0] != '\0');
    }
    CHECK(strcmp(stackjwt_error_message(STACKJWT_ERR_EXPIRED), "token expired") == 0);
    CHECK(strcmp(stackjwt_error_message(12345), "unknown error code") == 0);
    CHECK(stackjwt_stream_code(STACKJWT_ERR_NOT_YET_VALID) == 41 && stackjwt_stream_code(STACKJWT_ERR_MALFORMED) == 0);
    CHECK(sizeof(stackjwt_key) == STACKJWT_KEY_SIZE && alignof(stackjwt_key) == 16);
    CHECK(STACKJWT_OK == 0 && STACKJWT_ERR_NULL_POINTER < 0 && STACKJWT_ERR_INVALID_ARGUMENT < 0);
}

static const char SECRET32[] = "0123456789abcdef0123456789abcdef";
/* {"user_id":"admin\u0000x"} signed with "secret", as another signer would mint it. */
static const char NUL_ID[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWRtaW5cdTAwMDB4In0."
                             "wICP82LQEV9mINZVGzVM-6O_u8aPA3l4V9SKTRQx_c8";
/* A development token for "admin\u0000". */
static const char NUL_DEV[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWRtaW5cdTAwMDAifQ==.devtoken";

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    int zero = 1;
    for (size_t i = 0; i < n; i++) zero &= b[i] == 0;
    return zero;
}

/* Option bytes other than 0 or 1 (stack garbage when a caller sets only some fields) are
 * refused before anything else: a development token for admin never passes that way. */
static void option_bytes(void) {
    stackjwt_key key;
    init_key(&key, "secret");
    char dev[256];
    size_t n = 0;
    CHECK_CODE(stackjwt_dev_token("admin", 5, dev, sizeof dev, &n), STACKJWT_OK);
    uint8_t scratch[512];
    stackjwt_claims c;
    static const uint8_t GARBAGE[] = {0x02, 0x10, 0x80, 0xfe, 0xff};
    for (size_t i = 0; i < sizeof GARBAGE; i++) {
        stackjwt_verify_options o;
        memset(&o, GARBAGE[i], sizeof o); /* what `o.now = ..; o.leeway = ..;` leaves behind */
        o.now = NOW;
        o.leeway = 0;
        o.require_exp = 0;
        CHECK_CODE(stackjwt_verify(&key, dev, n, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_INVALID_ARGUMENT);
        CHECK(c.user_id == NULL && !c.is_dev);
        o.allow_dev_tokens = 0;
        o.require_exp = GARBAGE[i];
        CHECK_CODE(stackjwt_verify(&key, dev, n, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_INVALID_ARGUMENT);
    }
    stackjwt_verify_options o = STACKJWT_VERIFY_OPTIONS_INIT;
    o.now = NOW;
    CHECK_CODE(stackjwt_verify(&key, dev, n, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_DEV_TOKEN_NOT_ALLOWED);
    o.allow_dev_tokens = true;
    CHECK_CODE(stackjwt_verify(&key, dev, n, &o, scratch, sizeof scratch, &c), STACKJWT_OK);
    CHECK(c.is_dev && strcmp(c.user_id, "admin") == 0);
    stackjwt_key_clear(&key);
}

/* A NUL inside a user id would make C read a shorter id: refused when minting and verifying. */
static void nul_in_user_ids(void) {
    stackjwt_key key;
    init_key(&key, "secret");
    char out[256] = "untouched";
    size_t n = 0;
    CHECK_CODE(stackjwt_user_token(&key, "admin\0x", 7, NULL, NULL, out, sizeof out, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_dev_token("admin\0x", 7, out, sizeof out, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_dev_token("\0", 1, out, sizeof out, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(out, "untouched") == 0);
    uint8_t scratch[512];
    stackjwt_claims c;
    stackjwt_verify_options o = options(NOW, true);
    CHECK_CODE(stackjwt_verify(&key, NUL_ID, strlen(NUL_ID), &o, scratch, sizeof scratch, &c), STACKJWT_ERR_USER_ID_HAS_NUL);
    CHECK(c.user_id == NULL && c.user_id_len == 0);
    CHECK_CODE(stackjwt_verify(&key, NUL_DEV, strlen(NUL_DEV), &o, scratch, sizeof scratch, &c), STACKJWT_ERR_USER_ID_HAS_NUL);
    CHECK(strcmp(stackjwt_error_message(STACKJWT_ERR_USER_ID_HAS_NUL), "user_id contains a nul byte") == 0);
    CHECK(stackjwt_stream_code(STACKJWT_ERR_USER_ID_HAS_NUL) == 0);
    stackjwt_key_clear(&key);
}

/* A failed init leaves no key behind, not the previous one; clear leaves only zeros. */
static void failed_inits(void) {
    stackjwt_key key;
    char token[256];
    size_t n = 0;
    uint8_t scratch[512];
    stackjwt_claims c;
    stackjwt_verify_options o = options(NOW, false);
    const uint8_t *secret = (const uint8_t *)SECRET32;
    for (int how = 0; how < 4; how++) {
        CHECK_CODE(stackjwt_key_init(&key, STACKJWT_HS256, secret, 32), STACKJWT_OK);
        CHECK_CODE(stackjwt_user_token(&key, "john", 4, NULL, NULL, token, sizeof token, &n), STACKJWT_OK);
        CHECK_CODE(stackjwt_verify(&key, token, n, &o, scratch, sizeof scratch, &c), STACKJWT_OK);
        int r = how == 0   ? stackjwt_key_init(&key, STACKJWT_HS256, (const uint8_t *)"short", 5)
                : how == 1 ? stackjwt_key_init(&key, (stackjwt_alg)7, secret, 32)
                : how == 2 ? stackjwt_key_init_weak(&key, STACKJWT_HS256, NULL, 32)
                           : stackjwt_key_init_weak(&key, STACKJWT_HS256, secret, 0);
        CHECK(r != STACKJWT_OK);
        CHECK(all_zero(&key, sizeof key));
        CHECK_CODE(stackjwt_verify(&key, token, n, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_INVALID_ARGUMENT);
        CHECK_CODE(stackjwt_user_token(&key, "john", 4, NULL, NULL, token, sizeof token, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    }
    CHECK_CODE(stackjwt_key_init(&key, STACKJWT_HS512, (const uint8_t *)SECRET32 /* twice */, 32), STACKJWT_ERR_WEAK_SECRET);
    CHECK(all_zero(&key, sizeof key));
    CHECK_CODE(stackjwt_key_init(&key, STACKJWT_HS256, secret, 32), STACKJWT_OK);
    CHECK_CODE(stackjwt_key_set_kid(&key, "2026-12", 7), STACKJWT_OK);
    stackjwt_key_clear(&key);
    CHECK(all_zero(&key, sizeof key));
}

/* Buffers that overlap where one is written while another is read, and lengths no object can
 * have (an unchecked recv() result): refused before any slice is made. */
static void overlaps_and_lengths(void) {
    stackjwt_key key;
    init_key(&key, "secret");
    static const char T[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.yrpLD2gUq_TIyxMKpDBHQO391KGCNrFl-RvMT-p90MU";
    const size_t tn = strlen(T);
    uint8_t scratch[512];
    stackjwt_claims c;
    stackjwt_verify_options o = options(NOW, false);
    memcpy(scratch + 200, T, tn);
    const char *inside = (const char *)scratch + 200;
    CHECK_CODE(stackjwt_verify(&key, inside, tn, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_verify(&key, inside, tn, &o, scratch, 201, &c), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_verify(&key, inside, tn, &o, scratch, 200, &c), STACKJWT_OK);
    CHECK(strcmp(c.user_id, "john") == 0);
    CHECK_CODE(stackjwt_verify(&key, T, tn, &o, (uint8_t *)&key, sizeof key, &c), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_verify(&key, T, tn, &o, (uint8_t *)&c, sizeof c, &c), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_verify(&key, T, SIZE_MAX, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_TOKEN_TOO_LONG);
    CHECK_CODE(stackjwt_verify(&key, T, STACKJWT_MAX_TOKEN_LEN + 1, &o, scratch, sizeof scratch, &c), STACKJWT_ERR_TOKEN_TOO_LONG);
    CHECK_CODE(stackjwt_verify(&key, T, tn, &o, scratch, SIZE_MAX, &c), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_verify(&key, T, tn, &o, scratch, (size_t)PTRDIFF_MAX + 1, &c), STACKJWT_ERR_INVALID_ARGUMENT);

    char out[256];
    size_t n = 0;
    memset(out, 'j', sizeof out);
    CHECK_CODE(stackjwt_user_token(&key, out, 4, NULL, NULL, out, sizeof out, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_user_token(&key, out + 10, 4, NULL, NULL, out, 11, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_dev_token(out + 10, 4, out, sizeof out, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_user_token(&key, "john", 4, NULL, NULL, (char *)&key, sizeof key, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_server_token(&key, (char *)&key + 8, 64, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    union { uint64_t v; char bytes[256]; } u;
    u.v = 1700000000;
    CHECK_CODE(stackjwt_user_token(&key, "john", 4, &u.v, NULL, u.bytes, sizeof u.bytes, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    union { size_t len; char bytes[256]; } w;
    CHECK_CODE(stackjwt_server_token(&key, w.bytes, sizeof w.bytes, &w.len), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_user_token(&key, "john", 4, NULL, NULL, out, 4, &n), STACKJWT_ERR_BUFFER_TOO_SMALL);
    CHECK_CODE(stackjwt_user_token(&key, "john", SIZE_MAX, NULL, NULL, out, sizeof out, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_dev_token("john", 4, out, SIZE_MAX, &n), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_verify_webhook(&key, (const uint8_t *)"{}", SIZE_MAX, "x", 1), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_key_set_kid(&key, "k", SIZE_MAX), STACKJWT_ERR_INVALID_ARGUMENT);
    stackjwt_key other;
    CHECK_CODE(stackjwt_key_init(&other, STACKJWT_HS256, (const uint8_t *)SECRET32, SIZE_MAX), STACKJWT_ERR_INVALID_ARGUMENT);
    CHECK_CODE(stackjwt_key_init_weak(&other, STACKJWT_HS256, (const uint8_t *)&other + 8, 16), STACKJWT_ERR_INVALID_ARGUMENT);
    stackjwt_key_clear(&key);
}

int main(void) {
    vectors();
    rejections();
    null_pointers();
    small_buffers();
    webhooks();
    messages_and_layout();
    option_bytes();
    nul_in_user_ids();
    failed_inits();
    overlaps_and_lengths();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
