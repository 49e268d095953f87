/*
 * No libc: read-modify-write instructions on three counters, each alone on its own 64 KiB-aligned
 * page (so a test can write-protect exactly one of them under any granule): an LSE LDADD, an
 * LDAXR/STLXR increment loop and a CAS retry loop, 1000 times each, interleaved. Prints
 * "atomics <a> <b> <c>\n" (16 hex digits each) and exits 0. Starting values are 0x1000, 0x2000,
 * 0x3000, so the expected line ends in ...13e8 ...23e8 ...33e8. A read-modify-write that took
 * effect twice shows up as one more.
 */
    .text
    .global _start
_start:
    adrp    x19, counter_a
    add     x19, x19, :lo12:counter_a
    adrp    x20, counter_b
    add     x20, x20, :lo12:counter_b
    adrp    x21, counter_c
    add     x21, x21, :lo12:counter_c
    mov     x22, #1000
    mov     x1, #1
1:  ldadd   x1, x2, [x19]           // a += 1
2:  ldaxr   x3, [x20]               // b += 1, exclusive pair
    add     x3, x3, #1
    stlxr   w4, x3, [x20]
    cbnz    w4, 2b
3:  ldr     x5, [x21]               // c += 1, compare-and-swap loop
    add     x6, x5, #1
    mov     x7, x5
    casal   x7, x6, [x21]
    cmp     x7, x5
    b.ne    3b
    subs    x22, x22, #1
    b.ne    1b

    adrp    x6, buf
    add     x6, x6, :lo12:buf
    add     x7, x6, #8              // after "atomics "
    ldr     x5, [x19]
    bl      hex
    ldr     x5, [x20]
    bl      hex
    ldr     x5, [x21]
    bl      hex
    mov     w9, #'\n'
    strb    w9, [x7, #-1]
    mov     x0, #1
    mov     x1, x6
    mov     x2, #59                 // "atomics " + 3 * 17
    mov     x8, #64                 // write
    svc     #0
    mov     x0, #0
    mov     x8, #93                 // exit
    svc     #0

// x5 as 16 hex digits and a space at x7, advancing x7.
hex:
    mov     x8, #60
4:  lsr     x9, x5, x8
    and     x9, x9, #0xf
    cmp     x9, #10
    add     x10, x9, #'0'
    add     x11, x9, #('a' - 10)
    csel    x9, x10, x11, lo
    strb    w9, [x7], #1
    subs    x8, x8, #4
    b.pl    4b
    mov     w9, #' '
    strb    w9, [x7], #1
    ret

    .data
    .balign 65536
counter_a: .quad 0x1000
    .balign 65536
counter_b: .quad 0x2000
    .balign 65536
counter_c: .quad 0x3000
    .balign 65536
buf:    .ascii "atomics "
        .space 52
