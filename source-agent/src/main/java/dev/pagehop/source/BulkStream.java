package dev.pagehop.source;

import dev.pagehop.proto.migration.v1.RoundAck;
import dev.pagehop.proto.migration.v1.TransferRequest;
import dev.pagehop.proto.migration.v1.TransferResponse;
import dev.pagehop.xfer.ChunkSpec;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The source end of the bulk page stream. The migration thread sends; gRPC's threads deliver
 * readiness, acknowledgments and errors. Sending waits until the transport is ready
 * ({@code isReady}, gRPC's outbound flow control) and fewer than {@code window} chunks are
 * unacknowledged (our own bound), and each wait has a deadline: a target that stops
 * acknowledging fails the migration instead of hanging it (Ratis' GrpcLogAppender keeps a
 * timeout per request in flight in the same way).
 */
final class BulkStream implements ClientResponseObserver<TransferRequest, TransferResponse> {
    /** Readiness can flip without a callback reaching a waiter in a narrow race; re-check this often. */
    private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /**
     * gRPC reports "not ready" once 32 KiB are queued by default, less than one chunk, so the
     * stream would carry one chunk at a time; the call is opened with this threshold instead
     * (4 MiB: the default window of 16 chunks of 256 KiB), and our window bounds the queue.
     */
    static final int ON_READY_THRESHOLD_BYTES = 4 << 20;

    private final String migrationId;
    private final PendingPages pending;
    private final LongSupplier nanoTime;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final TreeMap<Long, InFlight> inFlight = new TreeMap<>();
    /**
     * Chunk buffers whose chunk the target acknowledged, ready to be read into again. A buffer
     * comes back only on acknowledgment: by then gRPC has long serialised the message, and an
     * in-process transport (which hands the message object itself to the target) is done with
     * it too. At most {@code window} buffers are out, so this never holds more than that.
     */
    private final ArrayDeque<byte[]> freeBuffers = new ArrayDeque<>();

    /** An unacknowledged chunk: the pages it covers (null for records) and the buffer its data aliases. */
    private record InFlight(ChunkSpec spec, byte[] buffer) {
    }
    private ClientCallStreamObserver<TransferRequest> requests;
    private RoundAck roundAck;
    private Throwable failure;
    private boolean completed;
    private long lastProgressNanos;
    private long acknowledgedChunks;
    /** Why sends waited (for the round's debug line): the transport's queue was full, or our window was. */
    private long waitsNotReady;
    private long waitsWindowFull;

    BulkStream(String migrationId, PendingPages pending, LongSupplier nanoTime) {
        this.migrationId = migrationId;
        this.pending = pending;
        this.nanoTime = nanoTime;
        this.lastProgressNanos = nanoTime.getAsLong();
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<TransferRequest> r) {
        requests = r;
        r.setOnReadyHandler(this::signal);
    }

    @Override
    public void onNext(TransferResponse resp) {
        lock.lock();
        try {
            switch (resp.getBodyCase()) {
                case CHUNK_ACK -> {
                    long seq = resp.getChunkAck().getSequence();
                    Map<Long, InFlight> done = inFlight.headMap(seq, true);
                    for (InFlight c : done.values()) {
                        if (c.spec() != null) {
                            pending.acknowledged(c.spec().address(), c.spec().end());
                        }
                        if (c.buffer() != null) {
                            freeBuffers.push(c.buffer());
                        }
                        acknowledgedChunks++;
                    }
                    done.clear();
                }
                case ROUND_ACK -> roundAck = resp.getRoundAck();
                case BODY_NOT_SET -> failure = Status.INTERNAL.withDescription("target sent an empty bulk stream response")
                        .asRuntimeException();
            }
            lastProgressNanos = nanoTime.getAsLong();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onError(Throwable t) {
        lock.lock();
        try {
            failure = t;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onCompleted() {
        lock.lock();
        try {
            completed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends one message once the stream is ready and the window has room. {@code spec} is the
     * page range a chunk covers (null for records without pages); it leaves the pending set when
     * the target acknowledges {@code sequence}. {@code sequence} < 0 for non-chunk messages.
     */
    void send(TransferRequest message, long sequence, ChunkSpec spec, byte[] buffer, int window, long ackTimeoutNanos,
            CancelCheck cancel) throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                checkAlive(cancel);
                boolean ready = requests.isReady();
                boolean room = sequence < 0 || inFlight.size() < window;
                if (ready && room) {
                    break;
                }
                if (!ready) {
                    waitsNotReady++;
                } else {
                    waitsWindowFull++;
                }
                awaitProgress(ackTimeoutNanos, sequence < 0 ? "stream readiness" : "room for chunk " + sequence
                        + " (" + inFlight.size() + " of " + window + " unacknowledged)");
            }
            if (sequence >= 0) {
                inFlight.put(sequence, new InFlight(spec, buffer));
            }
        } finally {
            lock.unlock();
        }
        requests.onNext(message);
    }

    /** Records a chunk as sent without sending it (fault point drop-chunk): the target sees a gap. */
    void skip(long sequence, ChunkSpec spec, byte[] buffer) {
        lock.lock();
        try {
            inFlight.put(sequence, new InFlight(spec, buffer));
        } finally {
            lock.unlock();
        }
    }

    /** Waits for every chunk to be acknowledged and then for the round's acknowledgment. */
    RoundAck awaitRound(long round, long ackTimeoutNanos, CancelCheck cancel) throws InterruptedException {
        lock.lock();
        try {
            while (roundAck == null || roundAck.getRound() != round || !inFlight.isEmpty()) {
                checkAlive(cancel);
                awaitProgress(ackTimeoutNanos, "acknowledgment of round " + round + " (" + inFlight.size()
                        + " chunks unacknowledged, first " + (inFlight.isEmpty() ? "-" : inFlight.firstKey()) + ")");
            }
            RoundAck a = roundAck;
            roundAck = null;
            return a;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A buffer of at least {@code bytes} to read a chunk into: one the target acknowledged, or a
     * new one while fewer than the window's worth exist (the chunk size is fixed per migration,
     * so buffers of another size are simply dropped).
     */
    byte[] buffer(int bytes) {
        lock.lock();
        try {
            while (!freeBuffers.isEmpty()) {
                byte[] b = freeBuffers.pop();
                if (b.length >= bytes) {
                    return b;
                }
            }
        } finally {
            lock.unlock();
        }
        return new byte[bytes];
    }

    String waitCounts() {
        lock.lock();
        try {
            return waitsNotReady + " transport not ready, " + waitsWindowFull + " window full";
        } finally {
            lock.unlock();
        }
    }

    long acknowledgedChunks() {
        lock.lock();
        try {
            return acknowledgedChunks;
        } finally {
            lock.unlock();
        }
    }

    long lastProgressNanos() {
        lock.lock();
        try {
            return lastProgressNanos;
        } finally {
            lock.unlock();
        }
    }

    /** Starts a new progress period (a round begins after work that involved no acknowledgments). */
    void markProgress() {
        lock.lock();
        try {
            lastProgressNanos = nanoTime.getAsLong();
        } finally {
            lock.unlock();
        }
    }

    void finish() {
        requests.onCompleted();
    }

    /** Tears the stream down (cancel, failure, fault point cut-stream-after-chunks). */
    void cancel(String why) {
        if (requests != null) {
            requests.cancel(why, null);
        }
    }

    private void awaitProgress(long timeoutNanos, String what) throws InterruptedException {
        long waited = nanoTime.getAsLong() - lastProgressNanos;
        if (waited >= timeoutNanos) {
            throw new MigrationException(dev.pagehop.migrate.FailureKind.TIMED_OUT, Status.DEADLINE_EXCEEDED, String.format(
                    "migration %s: no progress from the target for %d ms waiting for %s", migrationId,
                    TimeUnit.NANOSECONDS.toMillis(waited), what));
        }
        changed.awaitNanos(Math.min(RECHECK_NANOS, timeoutNanos - waited));
    }

    private void checkAlive(CancelCheck cancel) {
        cancel.check();
        if (failure != null) {
            Status s = Status.fromThrowable(failure);
            throw new MigrationException(dev.pagehop.migrate.FailureKind.ofStream(s.getCode()), s, "migration "
                    + migrationId + ": bulk stream failed: " + s.getCode()
                    + (s.getDescription() == null ? "" : ": " + s.getDescription()));
        }
        if (completed) {
            throw new MigrationException(dev.pagehop.migrate.FailureKind.TARGET_ERROR, Status.UNAVAILABLE, "migration " + migrationId
                    + ": the target closed the bulk stream early");
        }
    }

    /** Throws {@link MigrationException} with CANCELLED once the migration was cancelled. */
    @FunctionalInterface
    interface CancelCheck {
        void check();
    }
}
