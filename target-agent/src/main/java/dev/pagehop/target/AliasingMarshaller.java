package dev.pagehop.target;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses incoming messages without copying their {@code bytes} fields: the received transport
 * buffers are detached from gRPC, and the message's byte strings alias them, so a chunk's pages
 * go from the socket's buffers straight into the target's frames. gRPC's own protobuf
 * marshaller copies a message twice before the application sees it (into a parse buffer, then
 * each {@code bytes} field into its own array); for page data that is two copies of every byte.
 *
 * <p>When the transport cannot lend its buffers (a message split over reads sits in a composite
 * Netty buffer), the message is copied once into a pooled array and aliases that. Either way
 * the buffers stay held until {@link #release} is called with the message, which the receiver
 * does as soon as it has applied it. A message from the in-process transport is the sender's
 * object itself and holds nothing.
 */
final class AliasingMarshaller<T extends Message> implements MethodDescriptor.PrototypeMarshaller<T> {
    private final T prototype;
    private final Parser<T> parser;
    private final MethodDescriptor.Marshaller<T> plain;
    /** Messages parsed over borrowed or pooled buffers → what gives those buffers back. */
    private final Map<T, Runnable> held = new IdentityHashMap<>();
    /**
     * Arrays for messages copied out of unlendable buffers, reused after release. The receiver
     * holds only a couple of messages at a time (MigrationService.RECEIVE_AHEAD), so a few
     * arrays serve every stream; more are garbage.
     */
    private final List<byte[]> freeArrays = new ArrayList<>();
    private static final int MAX_FREE_ARRAYS = 8;

    @SuppressWarnings("unchecked")
    AliasingMarshaller(T prototype) {
        this.prototype = prototype;
        this.parser = (Parser<T>) prototype.getParserForType();
        this.plain = ProtoUtils.marshaller(prototype);
    }

    @Override
    public T getMessagePrototype() {
        return prototype;
    }

    @Override
    public Class<T> getMessageClass() {
        @SuppressWarnings("unchecked")
        Class<T> c = (Class<T>) prototype.getClass();
        return c;
    }

    @Override
    public InputStream stream(T value) {
        return plain.stream(value);
    }

    @Override
    public T parse(InputStream stream) {
        if (!(stream instanceof KnownLength)) {
            return plain.parse(stream);
        }
        try {
            int size = stream.available();
            if (size == 0) {
                return prototype;
            }
            if (stream instanceof Detachable d && stream instanceof HasByteBuffer h && h.byteBufferSupported()
                    && stream.markSupported()) {
                return parseLent(d.detach(), size);
            }
            return parseCopied(stream, size);
        } catch (InvalidProtocolBufferException e) {
            throw Status.INTERNAL.withDescription("invalid protobuf byte sequence").withCause(e).asRuntimeException();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("reading a received message failed: " + e).withCause(e)
                    .asRuntimeException();
        }
    }

    /** Over the transport's own buffers, which the detached stream holds until released. */
    private T parseLent(InputStream detached, int size) throws IOException {
        boolean keep = false;
        try {
            // mark() makes the composite buffer keep the parts already read instead of releasing
            // them, so every part stays valid until the detached stream is closed.
            detached.mark(size);
            HasByteBuffer parts = (HasByteBuffer) detached;
            List<ByteString> pieces = new ArrayList<>();
            while (detached.available() > 0) {
                ByteBuffer b = parts.getByteBuffer();
                if (b == null || !b.hasRemaining()) {
                    detached.reset();
                    return parseCopied(detached, size);
                }
                int n = b.remaining();
                pieces.add(UnsafeByteOperations.unsafeWrap(b));
                long skipped = detached.skip(n);
                if (skipped != n) {
                    throw new IOException("skipped " + skipped + " of " + n + " buffered bytes");
                }
            }
            ByteString whole = ByteString.copyFrom(pieces);
            if (!allDirect(whole)) {
                detached.reset();
                return parseCopied(detached, size);
            }
            T message = parseAliased(whole);
            hold(message, () -> closeQuietly(detached));
            keep = true;
            return message;
        } finally {
            if (!keep) {
                closeQuietly(detached);
            }
        }
    }

    /**
     * Whether protobuf can parse {@code bytes} with aliasing. It aliases a rope only when every
     * leaf is a direct buffer; but concatenation copies adjacent pieces shorter than 128 bytes
     * together into a heap array (HTTP/2 hands over 1-byte pieces next to a message's short
     * tail), and one heap leaf turns the whole parse into a stream decoder that copies every
     * {@code bytes} field into a fresh array. A copy into a pooled array is cheaper than that.
     */
    private static boolean allDirect(ByteString bytes) {
        for (ByteBuffer b : bytes.asReadOnlyByteBufferList()) {
            if (!b.isDirect()) {
                return false;
            }
        }
        return true;
    }

    /**
     * One copy into a pooled array the message then aliases: the transport's buffers could not
     * be lent (a frame split over reads lands in a composite Netty buffer).
     */
    private T parseCopied(InputStream stream, int size) throws IOException {
        byte[] buf = takeArray(size);
        boolean keep = false;
        try {
            int done = 0;
            while (done < size) {
                int n = stream.read(buf, done, size - done);
                if (n < 0) {
                    throw new IOException("message ended after " + done + " of " + size + " bytes");
                }
                done += n;
            }
            T message = parseAliased(UnsafeByteOperations.unsafeWrap(buf, 0, size));
            hold(message, () -> returnArray(buf));
            keep = true;
            return message;
        } finally {
            if (!keep) {
                returnArray(buf);
            }
        }
    }

    private T parseAliased(ByteString bytes) throws InvalidProtocolBufferException {
        CodedInputStream in = bytes.newCodedInput();
        in.enableAliasing(true);
        in.setSizeLimit(Integer.MAX_VALUE);
        return parser.parseFrom(in);
    }

    private void hold(T message, Runnable release) {
        synchronized (held) {
            held.put(message, release);
        }
    }

    private byte[] takeArray(int size) {
        synchronized (held) {
            for (int i = freeArrays.size() - 1; i >= 0; i--) {
                if (freeArrays.get(i).length >= size) {
                    return freeArrays.remove(i);
                }
            }
        }
        return new byte[size];
    }

    private void returnArray(byte[] buf) {
        synchronized (held) {
            if (freeArrays.size() < MAX_FREE_ARRAYS) {
                freeArrays.add(buf);
            }
        }
    }

    /** Returns the buffers {@code message} aliases; its byte strings must not be read after. */
    void release(T message) {
        Runnable r;
        synchronized (held) {
            r = held.remove(message);
        }
        if (r != null) {
            r.run();
        }
    }

    /** Messages parsed and not yet released (for tests: a stream that ended must hold none). */
    int heldCount() {
        synchronized (held) {
            return held.size();
        }
    }

    private static void closeQuietly(InputStream s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing a detached gRPC buffer stream only releases reference counts.
        }
    }
}
