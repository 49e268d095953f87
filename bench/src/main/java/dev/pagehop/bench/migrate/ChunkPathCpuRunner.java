package dev.pagehop.bench.migrate;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.proto.migration.v1.Chunk;
import dev.pagehop.track.PageRange;
import dev.pagehop.xfer.ChunkDecoder;
import dev.pagehop.xfer.ChunkEncoder;
import dev.pagehop.xfer.ChunkSpec;
import dev.pagehop.xfer.PageSetDigest;
import dev.pagehop.xfer.Partitioner;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * The CPU each step of the page path costs per GB, without a transport: what the source does
 * to a chunk (read from the emulated memory, zero check, checksum, digest, serialise) and what
 * the target does (parse, validate, write into frames, digest), one thread, one step at a time
 * over the same memory. Together with the socket's own cost (the raw TCP figure of
 * {@link MigrationBench}) it bounds what page streaming can reach on a machine: the steps here
 * and the socket copies share the same cores.
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp bench/target/pagehop-bench.jar \
 *     dev.pagehop.bench.migrate.ChunkPathCpuRunner [mib=256] [runs=9]
 * </pre>
 */
public final class ChunkPathCpuRunner {
    private static final int CHUNK = 256 * 1024;

    private ChunkPathCpuRunner() {
    }

    public static void main(String[] args) {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 256;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        ThreadMXBean tb = ManagementFactory.getThreadMXBean();
        LongSupplier cpu = tb::getCurrentThreadCpuTime;
        MemoryManager src = MemoryManager.create(MmConfig.arm64(Granule.K4));
        long size = mib << 20;
        long base = src.mmap(0, size, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
        byte[] page = new byte[4096];
        SplittableRandom r = new SplittableRandom(42);
        for (long a = base; a < base + size; a += page.length) {
            r.nextBytes(page);
            src.write(a, page);
        }
        String[] steps = {"source read", "source encode (read, zero check, checksum)", "source digest",
            "serialise", "target parse (aliasing)", "target validate (checksum)", "target write into frames",
            "target digest"};
        double[][] perGb = new double[steps.length][runs];
        byte[] buf = new byte[CHUNK];
        ByteBuffer wire = ByteBuffer.allocateDirect(CHUNK + 4096);
        for (int run = -3; run < runs; run++) {
            long[] ns = new long[steps.length];
            PageSetDigest sd = new PageSetDigest(4096);
            PageSetDigest td = new PageSetDigest(4096);
            MemoryManager dst = MemoryManager.create(MmConfig.arm64(Granule.K4));
            dst.mmap(base, size, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
            Iterator<ChunkSpec> it = Partitioner.chunks(List.of(new PageRange(base, base + size)), 4096, CHUNK);
            long seq = 0;
            while (it.hasNext()) {
                ChunkSpec spec = it.next();
                long t = cpu.getAsLong();
                src.peek(spec.address(), buf, 0, (int) spec.lengthBytes());
                long t1 = cpu.getAsLong();
                ns[0] += t1 - t;
                Chunk c = ChunkEncoder.pages("m", 0, seq++, spec, src::peek, buf).chunk();
                long t2 = cpu.getAsLong();
                ns[1] += t2 - t1;
                sd.apply(c);
                long t3 = cpu.getAsLong();
                ns[2] += t3 - t2;
                wire.clear();
                try {
                    CodedOutputStream out = CodedOutputStream.newInstance(wire);
                    c.writeTo(out);
                    out.flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                wire.flip();
                long t4 = cpu.getAsLong();
                ns[3] += t4 - t3;
                Chunk parsed;
                try {
                    // As the target parses: over the received buffer wrapped as a byte string, the
                    // one route on which protobuf aliases direct memory instead of copying it.
                    CodedInputStream in = UnsafeByteOperations.unsafeWrap(wire).newCodedInput();
                    in.enableAliasing(true);
                    parsed = Chunk.parseFrom(in);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                long t5 = cpu.getAsLong();
                ns[4] += t5 - t4;
                ChunkDecoder.validate(parsed, 4096, CHUNK);
                long t6 = cpu.getAsLong();
                ns[5] += t6 - t5;
                ChunkDecoder.apply(parsed, 4096, new ChunkDecoder.PageSink() {
                    @Override
                    public void write(long address, com.google.protobuf.ByteString data, int offset, int length) {
                        long at = address;
                        for (ByteBuffer b : data.substring(offset, offset + length).asReadOnlyByteBufferList()) {
                            int n = b.remaining();
                            dst.write(at, b);
                            at += n;
                        }
                    }

                    @Override
                    public void zero(long address, long lengthBytes) {
                    }
                });
                long t7 = cpu.getAsLong();
                ns[6] += t7 - t6;
                td.apply(parsed);
                ns[7] += cpu.getAsLong() - t7;
            }
            dst.close();
            if (run >= 0) {
                for (int s = 0; s < steps.length; s++) {
                    perGb[s][run] = ns[s] / 1e9 / (size / 1e9);
                }
            }
        }
        double total = 0;
        for (int s = 0; s < steps.length; s++) {
            double[] v = perGb[s].clone();
            Arrays.sort(v);
            if (s != 0) {
                total += v[runs / 2];
            }
            System.out.printf(Locale.ROOT, "%-45s %.3f s CPU per GB (median of %d, best %.3f)%n", steps[s], v[runs / 2],
                    runs, v[0]);
        }
        System.out.printf(Locale.ROOT, "%-45s %.3f s CPU per GB%n", "all but 'source read' (part of encode)", total);
    }
}
