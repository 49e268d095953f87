/**
 * Static AArch64 ELF64 executables: parsing ({@link dev.pagehop.elf.ElfImage}) and loading into
 * an emulated address space with the initial stack of fs/binfmt_elf.c
 * ({@link dev.pagehop.elf.ElfLoader}):
 *
 * <pre>
 *   STACK_TOP ─ 16 random bytes (AT_RANDOM), "aarch64", execfn, argv and envp strings
 *             ─ auxv (AT_PHDR … AT_NULL), envp[], NULL, argv[], NULL, argc  ← sp (16-aligned)
 *   brk start ─ page-aligned end of the highest PT_LOAD (bss included)
 * </pre>
 */
package dev.pagehop.elf;
