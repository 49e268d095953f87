/**
 * The userfaultfd and PAGEMAP_SCAN UAPI of the emulated kernel: constants named after
 * include/uapi/linux/userfaultfd.h and linux/fs.h ({@link dev.pagehop.uffd.Uffd}), the
 * {@link dev.pagehop.uffd.Userfaultfd} ioctls, {@link dev.pagehop.uffd.UffdMsg} and the
 * PAGEMAP_SCAN argument and result types. The implementation lives beside the page tables in
 * {@code dev.pagehop.mm} (UffdContext, PagemapScanner), because every ioctl works on them.
 *
 * <p>A userfaultfd context moves through:
 * <pre>
 *   NEW ──UFFDIO_API ok──► READY ──close()──► RELEASED
 *    └──────────close()─────────────────────────┘
 * </pre>
 * Ioctls other than UFFDIO_API fail EINVAL before READY; a second UFFDIO_API fails EINVAL; a
 * context its owner closed fails EBADF. Once the address space exited the ioctls still check
 * their arguments, then fail ESRCH (REGISTER and UNREGISTER: ENOMEM), as fs/userfaultfd.c does.
 * A faulting thread sleeps (only that thread) until UFFDIO_WRITEPROTECT(mode 0), COPY,
 * ZEROPAGE, WAKE, UNREGISTER or close wakes it; {@link dev.pagehop.uffd.FaultWait} tells the
 * process model when it sleeps and wakes.
 */
package dev.pagehop.uffd;
