package dev.pagehop.mm;

/**
 * A system call or ioctl of the emulated kernel failed with {@code errno}. The message names the
 * call, the errno and the arguments. Some ioctls report partial progress (UFFDIO_COPY's
 * {@code copy} field): {@link #partialResult()} carries it, or 0 when there is none.
 */
public class ErrnoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final long partialResult;

    public ErrnoException(int errno, String message) {
        this(errno, message, 0);
    }

    public ErrnoException(int errno, String message, long partialResult) {
        super(Errno.name(errno) + ": " + message);
        this.errno = errno;
        this.partialResult = partialResult;
    }

    public int errno() {
        return errno;
    }

    public long partialResult() {
        return partialResult;
    }
}
