package dev.pagehop.mm;

import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.UffdMsg;
import dev.pagehop.uffd.Userfaultfd;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * A userfaultfd context (struct userfaultfd_ctx of fs/userfaultfd.c) bound to one address space.
 * All state lives under the address space's lock; faulting threads sleep on their own condition
 * of that lock, so a wake-up can never be lost between the check and the sleep
 * (userfaultfd_must_wait is implicit: the fault path decides and sleeps without dropping the lock).
 *
 * <p>Lifecycle: {@link State#NEW} until UFFDIO_API succeeds, then {@link State#READY}, then
 * {@link State#RELEASED} on close (or when the mm goes away).
 */
final class UffdContext implements Userfaultfd {

    enum State {
        NEW, READY, RELEASED;

        void check(State next) {
            boolean ok = switch (this) {
                case NEW -> next == READY || next == RELEASED;
                case READY -> next == RELEASED;
                case RELEASED -> false;
            };
            if (!ok) {
                throw new IllegalStateException("userfaultfd state " + this + " -> " + next + " is not a legal transition");
            }
        }
    }

    /** Features this kernel offers (UFFD_API_FEATURES less what arm64 6.10+ prunes; no hugetlb MINOR, POISON, MOVE). */
    static final long SUPPORTED_FEATURES = Uffd.FEATURE_PAGEFAULT_FLAG_WP | Uffd.FEATURE_EVENT_FORK
            | Uffd.FEATURE_EVENT_REMAP | Uffd.FEATURE_EVENT_REMOVE | Uffd.FEATURE_MISSING_HUGETLBFS
            | Uffd.FEATURE_MISSING_SHMEM | Uffd.FEATURE_EVENT_UNMAP | Uffd.FEATURE_SIGBUS | Uffd.FEATURE_THREAD_ID
            | Uffd.FEATURE_EXACT_ADDRESS | Uffd.FEATURE_WP_HUGETLBFS_SHMEM | Uffd.FEATURE_WP_UNPOPULATED
            | Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_MINOR_SHMEM;
    static final long API_IOCTLS = (1L << Uffd._UFFDIO_REGISTER) | (1L << Uffd._UFFDIO_UNREGISTER)
            | (1L << Uffd._UFFDIO_API);
    static final long RANGE_IOCTLS = (1L << Uffd._UFFDIO_WAKE) | (1L << Uffd._UFFDIO_COPY)
            | (1L << Uffd._UFFDIO_ZEROPAGE) | (1L << Uffd._UFFDIO_MOVE) | (1L << Uffd._UFFDIO_WRITEPROTECT)
            | (1L << Uffd._UFFDIO_CONTINUE) | (1L << Uffd._UFFDIO_POISON);

    /** A thread asleep in handle_userfault. */
    static final class Waiter {
        final long pageAddr;
        final UffdMsg msg;
        final Condition cond;
        boolean delivered;
        volatile boolean woken;

        Waiter(long pageAddr, UffdMsg msg, Condition cond) {
            this.pageAddr = pageAddr;
            this.msg = msg;
            this.cond = cond;
        }
    }

    /** A non-cooperative event; the thread that caused it waits until it is read. */
    static final class Event {
        final UffdMsg msg;
        final Condition cond;
        boolean read;

        Event(UffdMsg msg, Condition cond) {
            this.msg = msg;
            this.cond = cond;
        }
    }

    AddressSpace mm;
    private final int flags;
    private State state = State.NEW;
    /** UFFDIO_API succeeded once (features may legitimately be 0). */
    private boolean handshakeDone;
    private long features;
    private final List<Waiter> waiters = new ArrayList<>();
    private final ArrayDeque<Event> events = new ArrayDeque<>();
    private final Condition readable;
    /** mmap_changing: non-cooperative events not yet read by the monitor. */
    private int mmapChanging;

    UffdContext(AddressSpace mm, int flags) {
        this.mm = mm;
        this.flags = flags;
        this.readable = mm.newCondition();
    }

    // ---- feature queries used by the fault path (under the mm lock) ----------------------------

    boolean async() {
        return (features & Uffd.FEATURE_WP_ASYNC) != 0;
    }

    /** userfaultfd_wp_use_markers: shmem always; anonymous memory only with WP_UNPOPULATED. */
    boolean useMarkers(Vma v) {
        return v.file != null || (features & Uffd.FEATURE_WP_UNPOPULATED) != 0;
    }

    boolean sigbus() {
        return (features & Uffd.FEATURE_SIGBUS) != 0;
    }

    boolean userModeOnly() {
        return (flags & Uffd.USER_MODE_ONLY) != 0;
    }

    boolean exactAddress() {
        return (features & Uffd.FEATURE_EXACT_ADDRESS) != 0;
    }

    long features() {
        return features;
    }

    boolean released() {
        return state == State.RELEASED;
    }

    private void transition(State next) {
        state.check(next);
        state = next;
    }

    // ---- the fault side --------------------------------------------------------------------------

    Waiter enqueueFault(long msgFlags, long addr, long pageAddr) {
        long ptid = (features & Uffd.FEATURE_THREAD_ID) != 0 ? Thread.currentThread().threadId() : 0;
        Waiter w = new Waiter(pageAddr, UffdMsg.pagefault(msgFlags, addr, ptid), mm.newCondition());
        waiters.add(w);
        readable.signalAll();
        return w;
    }

    void dropWaiter(Waiter w) {
        waiters.remove(w);
    }

    /** wake_userfault: wakes every sleeper whose page lies in [start, start+len). */
    void wakeRange(long start, long len) {
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter w = it.next();
            if (w.pageAddr >= start && w.pageAddr < start + len) {
                it.remove();
                w.woken = true;
                w.cond.signal();
            }
        }
    }

    private void wakeAll() {
        for (Waiter w : waiters) {
            w.woken = true;
            w.cond.signal();
        }
        waiters.clear();
    }

    // ---- non-cooperative events ------------------------------------------------------------------

    boolean wants(long feature) {
        return state == State.READY && (features & feature) != 0;
    }

    /** Queues an event and blocks the calling thread (lock released) until the monitor reads it. */
    void deliverEvent(UffdMsg msg) {
        Event e = new Event(msg, mm.newCondition());
        events.add(e);
        mmapChanging++;
        readable.signalAll();
        while (!e.read && state != State.RELEASED) {
            e.cond.awaitUninterruptibly();
        }
    }

    void unmapEvent(long start, long end) {
        if (wants(Uffd.FEATURE_EVENT_UNMAP)) {
            deliverEvent(UffdMsg.unmap(start, end));
        }
    }

    void removeEvent(long start, long end) {
        if (wants(Uffd.FEATURE_EVENT_REMOVE)) {
            deliverEvent(UffdMsg.remove(start, end));
        }
    }

    void remapEvent(long from, long to, long len) {
        if (wants(Uffd.FEATURE_EVENT_REMAP)) {
            deliverEvent(UffdMsg.remap(from, to, len));
        }
    }

    /** dup_userfaultfd with EVENT_FORK: the child's context, same features, already READY. */
    UffdContext forkInto(AddressSpace child) {
        UffdContext c = new UffdContext(child, flags);
        c.features = features;
        c.handshakeDone = true;
        c.transition(State.READY);
        child.uffds.add(c);
        return c;
    }

    void forkEvent(UffdContext child) {
        if (wants(Uffd.FEATURE_EVENT_FORK)) {
            deliverEvent(UffdMsg.fork(child));
        }
    }

    // ---- ioctls ------------------------------------------------------------------------------------

    private void lockForIoctl() {
        AddressSpace.leaveUserMode();
        mm.lock.lock();
    }

    /**
     * The ioctl dispatch: every ioctl but UFFDIO_API fails EINVAL before the handshake; a
     * userfaultfd its owner closed is a closed file descriptor (EBADF). When the address space
     * exited the descriptor is still open on Linux, so the ioctl goes on to its own checks and
     * fails at mmget_not_zero ({@link #requireLiveMm}).
     */
    private void requireReady(String call) {
        if (!handshakeDone) {
            throw new ErrnoException(Errno.EINVAL, call + ": userfaultfd is not initialised (UFFDIO_API first)");
        }
        if (state == State.RELEASED && !mm.isClosed()) {
            throw new ErrnoException(Errno.EBADF, call + ": the userfaultfd was closed");
        }
    }

    /**
     * mmget_not_zero after the argument checks: COPY, ZEROPAGE, WRITEPROTECT and CONTINUE fail
     * ESRCH once the address space has exited, REGISTER and UNREGISTER fail ENOMEM
     * (fs/userfaultfd.c).
     */
    private void requireLiveMm(String call, int errno) {
        if (mm.isClosed()) {
            throw new ErrnoException(errno, call + ": the address space has exited");
        }
    }

    private void validateRange(String call, long start, long len) {
        long ps = mm.pageSize;
        if ((start & (ps - 1)) != 0) {
            throw new ErrnoException(Errno.EINVAL, call + ": start 0x" + Long.toHexString(start) + " is not page aligned");
        }
        if (len == 0 || (len & (ps - 1)) != 0) {
            throw new ErrnoException(Errno.EINVAL, call + ": len " + len + " is zero or not a multiple of " + ps);
        }
        if (start >= 0 && start < AddressSpace.MMAP_MIN_ADDR) {
            throw new ErrnoException(Errno.EINVAL, call + ": start 0x" + Long.toHexString(start)
                    + " is below vm.mmap_min_addr 0x" + Long.toHexString(AddressSpace.MMAP_MIN_ADDR));
        }
        if (start < 0 || start >= AddressSpace.TASK_SIZE || len < 0 || len > AddressSpace.TASK_SIZE - start) {
            throw new ErrnoException(Errno.EINVAL, call + ": range 0x" + Long.toHexString(start) + "+" + len
                    + " leaves the user address space");
        }
    }

    @Override
    public long api(long api, long requested) {
        String call = "UFFDIO_API(api=0x" + Long.toHexString(api) + ", features=0x" + Long.toHexString(requested) + ")";
        mm.lock.lock();
        try {
            if (state != State.NEW) {
                throw new ErrnoException(Errno.EINVAL, call + ": the handshake was already done on this userfaultfd");
            }
            if (api != Uffd.API) {
                throw new ErrnoException(Errno.EINVAL, call + ": only API 0xaa exists");
            }
            long unknown = requested & ~SUPPORTED_FEATURES;
            if (unknown != 0) {
                throw new ErrnoException(Errno.EINVAL, call + ": unsupported features 0x" + Long.toHexString(unknown));
            }
            long f = requested;
            if ((f & Uffd.FEATURE_WP_ASYNC) != 0) {
                f |= Uffd.FEATURE_WP_UNPOPULATED;
            }
            this.features = f;
            handshakeDone = true;
            transition(State.READY);
            return SUPPORTED_FEATURES;
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public long apiIoctls() {
        mm.lock.lock();
        try {
            return state == State.READY ? API_IOCTLS : 0;
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public long register(long start, long len, int mode) {
        String call = String.format("UFFDIO_REGISTER(0x%x, %d, mode=0x%x)", start, len, mode);
        lockForIoctl();
        try {
            requireReady(call);
            int known = Uffd.REGISTER_MODE_MISSING | Uffd.REGISTER_MODE_WP | Uffd.REGISTER_MODE_MINOR;
            if (mode == 0 || (mode & ~known) != 0) {
                throw new ErrnoException(Errno.EINVAL, call + ": mode must be a non-empty set of MISSING, WP, MINOR");
            }
            validateRange(call, start, len);
            requireLiveMm(call, Errno.ENOMEM);
            long end = start + len;
            List<Vma> in = mm.vmasIn(start, end);
            if (in.isEmpty()) {
                throw new ErrnoException(Errno.EINVAL, call + ": no mapping in the range");
            }
            boolean wpOnly = mode == Uffd.REGISTER_MODE_WP;
            for (Vma v : in) {
                if ((mode & Uffd.REGISTER_MODE_MINOR) != 0 && v.file == null) {
                    throw new ErrnoException(Errno.EINVAL, call + ": MINOR mode needs shmem (or hugetlb); " + v
                            + " is anonymous");
                }
                if ((v.flags & VmFlags.VM_MAYWRITE) == 0) {
                    throw new ErrnoException(Errno.EPERM, call + ": " + v + " can never be written (no VM_MAYWRITE)");
                }
                if (v.uffd != null && v.uffd != this) {
                    throw new ErrnoException(Errno.EBUSY, call + ": " + v + " is registered with another userfaultfd");
                }
                if (!(wpOnly && async()) && (v.flags & VmFlags.VM_PFNMAP) != 0) {
                    throw new ErrnoException(Errno.EINVAL, call + ": " + v + " cannot userfault");
                }
            }
            mm.splitAt(start);
            mm.splitAt(end);
            long vmFlags = ((mode & Uffd.REGISTER_MODE_MISSING) != 0 ? VmFlags.VM_UFFD_MISSING : 0)
                    | ((mode & Uffd.REGISTER_MODE_WP) != 0 ? VmFlags.VM_UFFD_WP : 0)
                    | ((mode & Uffd.REGISTER_MODE_MINOR) != 0 ? VmFlags.VM_UFFD_MINOR : 0);
            for (Vma v : mm.vmasIn(start, end)) {
                if (v.uffd == this && (v.flags & vmFlags) == vmFlags) {
                    // userfaultfd_register_range: already registered here with (at least) these
                    // modes, so nothing changes; registering MISSING|WP then WP keeps MISSING.
                    continue;
                }
                v.flags = (v.flags & ~VmFlags.VM_UFFD_ALL) | vmFlags;
                v.uffd = this;
            }
            mm.mergeAround(start, end);
            long ioctls = RANGE_IOCTLS;
            if ((mode & Uffd.REGISTER_MODE_WP) == 0) {
                ioctls &= ~(1L << Uffd._UFFDIO_WRITEPROTECT);
            }
            if ((mode & Uffd.REGISTER_MODE_MINOR) == 0) {
                ioctls &= ~(1L << Uffd._UFFDIO_CONTINUE);
            }
            return ioctls;
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public void unregister(long start, long len) {
        String call = String.format("UFFDIO_UNREGISTER(0x%x, %d)", start, len);
        lockForIoctl();
        try {
            requireReady(call);
            validateRange(call, start, len);
            requireLiveMm(call, Errno.ENOMEM);
            long end = start + len;
            List<Vma> in = mm.vmasIn(start, end);
            if (in.isEmpty()) {
                throw new ErrnoException(Errno.EINVAL, call + ": no mapping in the range");
            }
            for (Vma v : in) {
                if (v.uffd != null && v.uffd != this) {
                    throw new ErrnoException(Errno.EINVAL, call + ": " + v + " is registered with another userfaultfd");
                }
            }
            mm.splitAt(start);
            mm.splitAt(end);
            for (Vma v : mm.vmasIn(start, end)) {
                if (v.uffd == this) {
                    // Only MISSING ranges are woken (so a lazy-restore thread does not hang); a
                    // thread asleep on a sync WP fault in a WP-only range stays asleep until
                    // UFFDIO_WAKE or close, as on Linux.
                    if ((v.flags & VmFlags.VM_UFFD_MISSING) != 0) {
                        wakeRange(v.start, v.end - v.start);
                    }
                    clearVma(v, v.start, v.end);
                }
            }
            mm.mergeAround(start, end);
        } finally {
            mm.lock.unlock();
        }
    }

    /** userfaultfd_clear_vma: uffd-wp state reset in the range, VM_UFFD_* and ctx dropped. */
    private void clearVma(Vma v, long s, long e) {
        if (v.uffdWp()) {
            mm.uffdWpRange(v, s, e, false);
        }
        v.flags &= ~VmFlags.VM_UFFD_ALL;
        v.uffd = null;
    }

    @Override
    public void writeprotect(long start, long len, int mode) {
        String call = String.format("UFFDIO_WRITEPROTECT(0x%x, %d, mode=0x%x)", start, len, mode);
        lockForIoctl();
        try {
            requireReady(call);
            if (mmapChanging > 0) {
                throw new ErrnoException(Errno.EAGAIN, call + ": " + mmapChanging + " non-cooperative event(s) not yet read");
            }
            validateRange(call, start, len);
            if ((mode & ~(Uffd.WRITEPROTECT_MODE_WP | Uffd.WRITEPROTECT_MODE_DONTWAKE)) != 0) {
                throw new ErrnoException(Errno.EINVAL, call + ": unknown mode bits");
            }
            boolean wp = (mode & Uffd.WRITEPROTECT_MODE_WP) != 0;
            boolean dontwake = (mode & Uffd.WRITEPROTECT_MODE_DONTWAKE) != 0;
            if (wp && dontwake) {
                throw new ErrnoException(Errno.EINVAL, call + ": WP and DONTWAKE together make no sense");
            }
            requireLiveMm(call, Errno.ESRCH);
            long end = start + len;
            List<Vma> in = mm.vmasIn(start, end);
            if (in.isEmpty()) {
                throw new ErrnoException(Errno.ENOENT, call + ": no mapping in the range");
            }
            boolean changed = false;
            for (Vma v : in) {
                if (!v.uffdWp()) {
                    if (changed && wp) {
                        mm.shootdown();
                    }
                    throw new ErrnoException(Errno.ENOENT, call + ": " + v + " is not registered for WP"
                            + (changed ? " (mappings before it were already changed, as on Linux)" : ""));
                }
                mm.uffdWpRange(v, Math.max(start, v.start), Math.min(end, v.end), wp);
                changed = true;
            }
            if (wp) {
                mm.shootdown();
            }
            if (!wp && !dontwake) {
                wakeRange(start, len);
            }
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public long copy(long dst, byte[] src, int mode) {
        int len = src == null ? 0 : src.length;
        String call = String.format("UFFDIO_COPY(dst=0x%x, len=%d, mode=0x%x)", dst, len, mode);
        lockForIoctl();
        try {
            requireReady(call);
            if (mmapChanging > 0) {
                throw new ErrnoException(Errno.EAGAIN, call + ": " + mmapChanging + " non-cooperative event(s) not yet read",
                        -Errno.EAGAIN);
            }
            // The argument checks fail before mfill_atomic runs: the copy field is not written.
            validateRange(call, dst, len);
            if ((mode & ~(Uffd.COPY_MODE_DONTWAKE | Uffd.COPY_MODE_WP)) != 0) {
                throw new ErrnoException(Errno.EINVAL, call + ": unknown mode bits");
            }
            requireLiveMm(call, Errno.ESRCH);
            Vma v = dstVma(call, dst, len);
            if ((mode & Uffd.COPY_MODE_WP) != 0 && !v.uffdWp()) {
                throw new ErrnoException(Errno.EINVAL, call + ": MODE_WP on " + v + " which is not registered for WP",
                        -Errno.EINVAL);
            }
            boolean wp = (mode & Uffd.COPY_MODE_WP) != 0;
            return mfill(call, dst, len, (mode & Uffd.COPY_MODE_DONTWAKE) == 0, "copied", "is already populated", "failed",
                    off -> mm.mfillCopy(v, dst + off, src, (int) off, wp));
        } finally {
            mm.lock.unlock();
        }
    }

    /** One page of an mfill ioctl at this offset into the range: 0, or the errno that stops it. */
    @FunctionalInterface
    private interface PageFill {
        int fill(long offset);
    }

    /**
     * The loop every mfill ioctl shares (mm/userfaultfd.c mfill_atomic): page by page until one
     * fails, wake what was filled unless DONTWAKE, then the partial-result rule — the first page's
     * errno if nothing was done, otherwise EAGAIN carrying the bytes done.
     */
    private long mfill(String call, long start, long len, boolean wake, String doneVerb, String firstPageExists,
            String firstPageFailure, PageFill page) {
        long done = 0;
        int errno = 0;
        for (long off = 0; off < len; off += mm.pageSize) {
            errno = page.fill(off);
            if (errno != 0) {
                break;
            }
            done += mm.pageSize;
        }
        if (done > 0 && wake) {
            wakeRange(start, done);
        }
        if (errno != 0) {
            if (done == 0) {
                throw new ErrnoException(errno, call + ": the first page "
                        + (errno == Errno.EEXIST ? firstPageExists : firstPageFailure), -errno);
            }
            throw new ErrnoException(Errno.EAGAIN, call + ": " + doneVerb + " " + done + " of " + len + " bytes; page 0x"
                    + Long.toHexString(start + done) + " failed with " + Errno.name(errno), done);
        }
        return done;
    }

    /** validate_dst_vma: the whole range inside one VMA registered with a userfaultfd. */
    private Vma dstVma(String call, long dst, long len) {
        Vma v = mm.findVma(dst);
        if (v == null || dst + len > v.end) {
            throw new ErrnoException(Errno.ENOENT, call + ": the range is not inside one mapping", -Errno.ENOENT);
        }
        if (v.uffd == null) {
            throw new ErrnoException(Errno.ENOENT, call + ": " + v + " is not registered with a userfaultfd",
                    -Errno.ENOENT);
        }
        return v;
    }

    @Override
    public long zeropage(long start, long len, int mode) {
        String call = String.format("UFFDIO_ZEROPAGE(0x%x, %d, mode=0x%x)", start, len, mode);
        lockForIoctl();
        try {
            requireReady(call);
            if (mmapChanging > 0) {
                throw new ErrnoException(Errno.EAGAIN, call + ": " + mmapChanging + " non-cooperative event(s) not yet read",
                        -Errno.EAGAIN);
            }
            validateRange(call, start, len);
            if ((mode & ~Uffd.ZEROPAGE_MODE_DONTWAKE) != 0) {
                throw new ErrnoException(Errno.EINVAL, call + ": unknown mode bits");
            }
            requireLiveMm(call, Errno.ESRCH);
            Vma v = dstVma(call, start, len);
            return mfill(call, start, len, (mode & Uffd.ZEROPAGE_MODE_DONTWAKE) == 0, "zeroed", "is already populated", "failed",
                    off -> mm.mfillZeropage(v, start + off));
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public long continueRange(long start, long len, int mode) {
        String call = String.format("UFFDIO_CONTINUE(0x%x, %d, mode=0x%x)", start, len, mode);
        lockForIoctl();
        try {
            requireReady(call);
            if (mmapChanging > 0) {
                throw new ErrnoException(Errno.EAGAIN, call + ": " + mmapChanging + " non-cooperative event(s) not yet read",
                        -Errno.EAGAIN);
            }
            validateRange(call, start, len);
            if ((mode & ~(Uffd.CONTINUE_MODE_DONTWAKE | Uffd.CONTINUE_MODE_WP)) != 0) {
                throw new ErrnoException(Errno.EINVAL, call + ": unknown mode bits");
            }
            requireLiveMm(call, Errno.ESRCH);
            Vma v = dstVma(call, start, len);
            if (v.file == null) {
                throw new ErrnoException(Errno.EINVAL, call + ": " + v + " is not shmem", -Errno.EINVAL);
            }
            if ((mode & Uffd.CONTINUE_MODE_WP) != 0 && !v.uffdWp()) {
                throw new ErrnoException(Errno.EINVAL, call + ": MODE_WP on " + v + " which is not registered for WP",
                        -Errno.EINVAL);
            }
            boolean wp = (mode & Uffd.CONTINUE_MODE_WP) != 0;
            return mfill(call, start, len, (mode & Uffd.CONTINUE_MODE_DONTWAKE) == 0, "mapped", "is already mapped",
                    "is not in the page cache",
                    off -> mm.mfillContinue(v, start + off, wp));
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public void wake(long start, long len) {
        String call = String.format("UFFDIO_WAKE(0x%x, %d)", start, len);
        mm.lock.lock();
        try {
            requireReady(call);
            validateRange(call, start, len);
            wakeRange(start, len);
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public UffdMsg read() throws InterruptedException {
        mm.lock.lock();
        try {
            for (;;) {
                UffdMsg m = take("read");
                if (m != null) {
                    return m;
                }
                if ((flags & Uffd.NONBLOCK) != 0) {
                    throw new ErrnoException(Errno.EAGAIN, "read(userfaultfd): no message pending (O_NONBLOCK)");
                }
                readable.await();
            }
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public UffdMsg poll(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
        mm.lock.lock();
        try {
            for (;;) {
                UffdMsg m = take("poll");
                if (m != null) {
                    return m;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                readable.awaitNanos(left);
            }
        } finally {
            mm.lock.unlock();
        }
    }

    /** userfaultfd_ctx_read: pending page faults first, then events. */
    private UffdMsg take(String call) {
        if (state == State.NEW) {
            throw new ErrnoException(Errno.EINVAL, call + ": userfaultfd is not initialised (UFFDIO_API first)");
        }
        if (state == State.RELEASED) {
            throw new ErrnoException(Errno.EBADF, call + ": userfaultfd is closed");
        }
        for (Waiter w : waiters) {
            if (!w.delivered) {
                w.delivered = true;
                return w.msg;
            }
        }
        Event e = events.poll();
        if (e != null) {
            e.read = true;
            mmapChanging--;
            e.cond.signalAll();
            return e.msg;
        }
        return null;
    }

    /** Threads asleep in a userfault of this context, read or not (for tests and diagnostics). */
    int sleepingFaults() {
        mm.lock.lock();
        try {
            return waiters.size();
        } finally {
            mm.lock.unlock();
        }
    }

    /** Messages queued and not yet read (for tests and diagnostics). */
    int pendingMessages() {
        mm.lock.lock();
        try {
            int n = events.size();
            for (Waiter w : waiters) {
                if (!w.delivered) {
                    n++;
                }
            }
            return n;
        } finally {
            mm.lock.unlock();
        }
    }

    @Override
    public void close() {
        AddressSpace owner = mm;
        owner.lock.lock();
        try {
            if (state == State.RELEASED) {
                return;
            }
            if (!owner.isClosed()) {
                for (Vma v : new ArrayList<>(owner.vmasIn(0, AddressSpace.TASK_SIZE))) {
                    if (v.uffd == this) {
                        clearVma(v, v.start, v.end);
                    }
                }
                owner.mergeAround(0, AddressSpace.TASK_SIZE);
            }
            transition(State.RELEASED);
            wakeAll();
            for (Event e : events) {
                e.read = true;
                e.cond.signalAll();
            }
            events.clear();
            mmapChanging = 0;
            readable.signalAll();
            owner.uffds.remove(this);
        } finally {
            owner.lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "userfaultfd[" + state + ", features=0x" + Long.toHexString(features) + "]";
    }
}
