package dev.pagehop.uffd;

/**
 * An emulated userfaultfd bound to one address space (fs/userfaultfd.c). Each method is the
 * ioctl of the same name and fails with {@code ErrnoException} where Linux fails: EINVAL before
 * UFFDIO_API, EBADF once closed, ESRCH (COPY, ZEROPAGE, WRITEPROTECT, CONTINUE) or ENOMEM
 * (REGISTER, UNREGISTER) after the address space exited, in each case after the argument checks.
 */
public interface Userfaultfd extends AutoCloseable {

    /** UFFDIO_API with api = UFFD_API (0xAA): see {@link #api(long, long)}. */
    default long api(long features) {
        return api(Uffd.API, features);
    }

    /**
     * UFFDIO_API: the handshake with an explicit {@code api} value (anything but 0xAA fails
     * EINVAL); returns the features the kernel supports (struct uffdio_api.features).
     */
    long api(long api, long features);

    /** UFFDIO_API's {@code ioctls} out-field after a successful handshake. */
    long apiIoctls();

    /** UFFDIO_REGISTER: returns the {@code ioctls} mask for the range. */
    long register(long start, long len, int mode);

    /**
     * UFFDIO_UNREGISTER: resets uffd-wp state in the range and wakes threads asleep on faults in
     * ranges registered for MISSING; a sync WP fault in a WP-only range stays asleep until
     * {@link #wake} or {@link #close}, as on Linux.
     */
    void unregister(long start, long len);

    void writeprotect(long start, long len, int mode);

    /** UFFDIO_COPY from {@code src}: bytes copied; partial progress fails EAGAIN with the count. */
    long copy(long dst, byte[] src, int mode);

    /** UFFDIO_ZEROPAGE: bytes zero-mapped. */
    long zeropage(long start, long len, int mode);

    /**
     * UFFDIO_CONTINUE (MINOR mode, shmem): maps the page-cache pages already there; bytes mapped,
     * partial progress fails EAGAIN with the count, as {@link #copy}.
     */
    long continueRange(long start, long len, int mode);

    void wake(long start, long len);

    /** Blocking read(2) of the next message. */
    UffdMsg read() throws InterruptedException;

    /** Waits up to {@code timeoutMillis} for a message; null on timeout. */
    UffdMsg poll(long timeoutMillis) throws InterruptedException;

    @Override
    void close();
}
