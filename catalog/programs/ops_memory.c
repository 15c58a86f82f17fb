/*
 * ops_memory.c -- every load and store width: i32.store8/16/32 and
 * i32.load8_s/8_u/16_s/16_u/32, including sign extension of loaded bytes
 * and halfwords, unaligned word access, and little-endian byte order.
 *
 * All accesses go through volatile pointers so clang must emit each one.
 * Widths are the <stdint.h> types (int8_t, uint16_t, ...), which have the
 * same size on wasm32 and x86-64.  Unaligned words are accessed with
 * memcpy, the defined way in C (clang emits an i32.load/store with
 * alignment 1).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned char buffer[16];

static volatile int32_t word_values[] = {0x80ff7f01, -2, 0x12345678};

static void dump(const char *label) {
    int i;
    printf("%-14s", label);
    for (i = 0; i < 16; i++)
        printf(" %02x", buffer[i]);
    printf("\n");
}

int main(void) {
    volatile uint8_t *u8 = (volatile uint8_t *)buffer;
    volatile int8_t *s8 = (volatile int8_t *)buffer;
    volatile uint16_t *u16 = (volatile uint16_t *)buffer;
    volatile int16_t *s16 = (volatile int16_t *)buffer;
    volatile int32_t *s32 = (volatile int32_t *)buffer;
    int32_t w = word_values[0];
    int i;

    /* 32-bit stores, then every narrower load of the same bytes. */
    s32[0] = w;
    s32[1] = word_values[1];
    dump("store32 x2");
    for (i = 0; i < 8; i++)
        printf("load8  [%d]: s %4d u %3u\n", i, s8[i], u8[i]);
    for (i = 0; i < 4; i++)
        printf("load16 [%d]: s %6d u %5u\n", i * 2, s16[i], u16[i]);
    printf("load32 [0]: %d [4]: %d\n", s32[0], s32[1]);

    /* Narrow stores keep only the low bits of the value. */
    u8[8] = (uint8_t)word_values[2];    /* 0x78 */
    u8[9] = (uint8_t)(word_values[2] >> 8); /* 0x56 */
    u16[5] = (uint16_t)word_values[2];  /* 0x5678 at 10..11 */
    s16[6] = (int16_t)-300;             /* 0xfed4 at 12..13 */
    s8[14] = (int8_t)-128;
    s8[15] = (int8_t)127;
    dump("narrow stores");
    printf("load16 [12]: s %d u %u\n", s16[6], u16[6]);
    printf("load8  [14]: s %d u %u  [15]: s %d u %u\n", s8[14], u8[14], s8[15], u8[15]);

    /* Unaligned 32-bit store and load (offsets 1 and 6). */
    {
        int32_t v = word_values[2];
        int32_t back;
        memcpy(buffer + 1, &v, 4);
        memcpy(&back, buffer + 6, 4);
        dump("unaligned");
        printf("word at 6: %08x\n", (unsigned)back);
    }

    /* Sign extension of values that are not loaded: (int8_t) and (int16_t)
     * casts of a register value. */
    for (i = 0; i < 3; i++) {
        int32_t v = word_values[i];
        printf("%08x -> int8 %d, uint8 %u, int16 %d, uint16 %u\n", (unsigned)v, (int8_t)v,
               (uint8_t)v, (int16_t)v, (uint16_t)v);
    }
    return 0;
}
