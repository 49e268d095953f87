/*
 * No libc: raw syscalls only. Computes a few values with flag-setting arithmetic, a loop, a
 * load/store pair round trip on the stack and LSE/exclusive atomics, prints "bare ok <hex>\n"
 * and exits with status 42. Keeps the entry path free of anything a libc would add.
 */
    .text
    .global _start
_start:
    mov     x19, #0
    mov     x20, #100
1:  add     x19, x19, x20           // sum 100..1
    subs    x20, x20, #1
    b.ne    1b
    // x19 = 5050
    stp     x19, x20, [sp, #-16]!
    ldp     x21, x22, [sp], #16
    adrp    x0, counter
    add     x0, x0, :lo12:counter
    mov     x1, #5
    ldadd   x1, x2, [x0]            // counter = 5, x2 = 0
2:  ldaxr   x3, [x0]
    add     x3, x3, x21             // counter += 5050
    stlxr   w4, x3, [x0]
    cbnz    w4, 2b
    ldr     x5, [x0]                // 5055
    // format x5 as 16 hex digits into buf
    adrp    x6, buf
    add     x6, x6, :lo12:buf
    add     x7, x6, #8              // after "bare ok "
    mov     x8, #60
3:  lsr     x9, x5, x8
    and     x9, x9, #0xf
    cmp     x9, #10
    add     x10, x9, #'0'
    add     x11, x9, #('a' - 10)
    csel    x9, x10, x11, lo
    strb    w9, [x7], #1
    subs    x8, x8, #4
    b.pl    3b
    mov     w9, #'\n'
    strb    w9, [x7]
    mov     x0, #1
    mov     x1, x6
    mov     x2, #25
    mov     x8, #64                 // write
    svc     #0
    mov     x0, #42
    mov     x8, #93                 // exit
    svc     #0

    .data
    .balign 8
counter: .quad 0
buf:    .ascii "bare ok "
        .space 17
