/* stackjwt from C on a bare-metal Cortex-M3 (QEMU lm3s6965evb): mints a Stream user token
 * (checked against the JS SDK's bytes), verifies it, rejects a tampered and an alg:none
 * token, measures the stack of that work (painted; the key and buffers are on the measured
 * frame) and exits through semihosting: status 0 and "PASS", or 1. */
#include <stdint.h>
#include <string.h>

#include "stackjwt.h"

/* ---- semihosting ---- */
static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
static void print(const char *s) { semihost(0x04, s); }               /* SYS_WRITE0 */
static void print_u32(uint32_t v) {
    char buf[11];
    char *p = buf + sizeof buf - 1;
    *p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    print(p);
}
static void __attribute__((noreturn)) exit_with(int ok) {
    /* SYS_EXIT: ApplicationExit is status 0 for QEMU, RunTimeErrorUnknown status 1. */
    semihost(0x18, (const void *)(uintptr_t)(ok ? 0x20026 : 0x20023));
    for (;;) {}
}

/* ---- startup ---- */
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _stack_top;
int main(void);
void reset_handler(void) {
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    exit_with(main() == 0);
}
static void fault_handler(void) { print("FAULT\n"); exit_with(0); }
__attribute__((section(".vector_table"), used)) static const void *const VECTORS[16] = {
    &_stack_top, (const void *)reset_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
};

/* ---- the work ---- */
static const char SECRET[] = "8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
/* Stream's JS SDK: createToken("john", 1700000000, 1600000000) with SECRET. */
static const char SDK_TOKEN[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiIsImV4cCI6MTcwMDAwMDAwMCwiaWF0IjoxNjAwMDAwMDAwfQ."
    "dxMRiyBtBACQs_Pw_iVwRUq0aloMnJ8E8xo6r9kxUYs";
static const char ALG_NONE[] =
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VyX2lkIjoiam9obiJ9.CXZll3MK_Bw66Ypy6EaQirTJW15E5JmxMGK8zX6Htb8";

/* Everything measured: the key, a 256-byte token buffer and a 256-byte scratch live here. */
static __attribute__((noinline)) int work(void) {
    int failures = 0;
    stackjwt_key key;
    if (stackjwt_key_init(&key, STACKJWT_HS256, (const uint8_t *)SECRET, sizeof SECRET - 1) != STACKJWT_OK) return 100;
    char token[256];
    size_t len = 0;
    const uint64_t exp = 1700000000, iat = 1600000000;
    int r = stackjwt_user_token(&key, "john", 4, &exp, &iat, token, sizeof token, &len);
    failures += r != STACKJWT_OK || len != sizeof SDK_TOKEN - 1 || memcmp(token, SDK_TOKEN, sizeof SDK_TOKEN) != 0;
    uint8_t scratch[256];
    stackjwt_claims claims;
    stackjwt_verify_options o = {1650000000, 0, true, false};
    r = stackjwt_verify(&key, token, len, &o, scratch, sizeof scratch, &claims);
    failures += r != STACKJWT_OK || claims.user_id_len != 4 || memcmp(claims.user_id, "john", 5) != 0 || claims.exp != exp;
    token[len - 1] = token[len - 1] == 'A' ? 'B' : 'A';
    r = stackjwt_verify(&key, token, len, &o, scratch, sizeof scratch, &claims);
    failures += r != STACKJWT_ERR_SIGNATURE_MISMATCH || stackjwt_stream_code(r) != 43;
    r = stackjwt_verify(&key, ALG_NONE, sizeof ALG_NONE - 1, &o, scratch, sizeof scratch, &claims);
    failures += r != STACKJWT_ERR_ALGORITHM_NOT_ALLOWED;
    stackjwt_key_clear(&key);
    return failures;
}

#define PAINT 0xa5a5a5a5u
static __attribute__((noinline)) void paint(uint32_t *from, uint32_t *to) {
    for (volatile uint32_t *p = from; p < to; p++) *p = PAINT;
}

int main(void) {
    /* Paint from the end of .bss to a little below this frame, run, find the lowest word the
     * work changed: the stack it used is the distance from there up to this frame. */
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    uint32_t *top = (uint32_t *)(sp - 64);
    paint(&_ebss, top);
    int failures = work();
    uint32_t *low = &_ebss;
    while (low < top && *low == PAINT) low++;
    uint32_t stack = (uint32_t)((uintptr_t)top - (uintptr_t)low);
    extern uint32_t _sidata;
    uint32_t flash = (uint32_t)(uintptr_t)&_sidata + (uint32_t)((uintptr_t)&_edata - (uintptr_t)&_sdata);
    print("flash=");
    print_u32(flash);
    print(" stack=");
    print_u32(stack);
    print(" key=");
    print_u32(STACKJWT_KEY_SIZE);
    print(failures ? "\nFAIL\n" : "\nPASS\n");
    return failures;
}
