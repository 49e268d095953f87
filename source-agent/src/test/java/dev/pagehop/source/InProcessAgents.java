package dev.pagehop.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.migrate.FaultInjector;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.proc.EmulatedProcess;
import dev.pagehop.proc.EmulatedThread;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.WatchMigrationRequest;
import dev.pagehop.target.TargetAgentServer;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A source and a target agent in this JVM, joined by gRPC's in-process transport: the same
 * servers, services and flow control as over TCP, without sockets. "Killing" the target stops
 * its server at once.
 */
final class InProcessAgents implements AutoCloseable {
    final String targetName = "target-" + UUID.randomUUID();
    final String sourceName = "source-" + UUID.randomUUID();
    final FaultInjector sourceFaults = new FaultInjector();
    final FaultInjector targetFaults = new FaultInjector();
    final TargetAgentServer target;
    final SourceAgentServer source;
    final ManagedChannel control;
    final AgentControlGrpc.AgentControlBlockingStub stub;
    final ManagedChannel targetControlChannel;
    final AgentControlGrpc.AgentControlBlockingStub targetStub;

    InProcessAgents() throws Exception {
        this(TimeUnit.SECONDS.toNanos(20));
    }

    InProcessAgents(long ackTimeoutNanos) throws Exception {
        this(ackTimeoutNanos, 20_000);
    }

    InProcessAgents(long ackTimeoutNanos, long rpcTimeoutMs) throws Exception {
        TargetAgentServer[] self = new TargetAgentServer[1];
        target = new TargetAgentServer(InProcessServerBuilder.forName(targetName),
                new TargetAgentServer.Options("target", 4L << 30, 4, targetFaults, () -> self[0].kill(), System::nanoTime,
                        "127.0.0.1", -1, 5_000));
        self[0] = target;
        source = new SourceAgentServer(InProcessServerBuilder.forName(sourceName),
                t -> InProcessChannelBuilder.forName(t).build(),
                new SourceAgentServer.Options("source", SourceConfig.defaults(),
                        new SourceMigration.Settings(ackTimeoutNanos, rpcTimeoutMs, "source", sourceFaults, System::nanoTime),
                        "127.0.0.1", -1, 5_000));
        control = InProcessChannelBuilder.forName(sourceName).build();
        stub = AgentControlGrpc.newBlockingStub(control);
        targetControlChannel = InProcessChannelBuilder.forName(targetName).build();
        targetStub = AgentControlGrpc.newBlockingStub(targetControlChannel);
    }

    /** Follows WatchMigration to its END event and returns the final record. */
    MigrationInfo awaitEnd(String migrationId) {
        Iterator<MigrationEvent> events = stub.withDeadlineAfter(120, TimeUnit.SECONDS)
                .watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(migrationId).build());
        MigrationInfo last = null;
        while (events.hasNext()) {
            MigrationEvent e = events.next();
            if (e.hasInfo()) {
                last = e.getInfo();
            }
            if (e.getKind() == MigrationEvent.Kind.KIND_END) {
                return e.getInfo();
            }
        }
        throw new AssertionError("watch ended without an END event; last: " + last);
    }

    /**
     * Page-by-page equality of two frozen address spaces: the same mapped ranges with the same
     * protection and sharing, and the same bytes. VMA boundaries may differ where adjacent VMAs
     * merged on one side only (unregistering a tracker's userfaultfd lets the kernel merge), so
     * ranges are compared after merging neighbours alike in protection and sharing.
     */
    static void assertSameMemory(MemoryManager a, MemoryManager b) {
        List<long[]> ra = merged(a.vmas());
        List<long[]> rb = merged(b.vmas());
        assertThat(rb).as("mapped ranges [start, end, prot, shared]").usingElementComparator(java.util.Arrays::compare)
                .containsExactlyElementsOf(ra);
        int ps = (int) a.pageSize();
        byte[] pa = new byte[ps];
        byte[] pb = new byte[ps];
        for (long[] r : ra) {
            for (long addr = r[0]; addr < r[1]; addr += ps) {
                a.peek(addr, pa, 0, ps);
                b.peek(addr, pb, 0, ps);
                if (!java.util.Arrays.equals(pa, pb)) {
                    throw new AssertionError(String.format("page 0x%x differs (first byte at %d)", addr,
                            java.util.Arrays.mismatch(pa, pb)));
                }
            }
        }
    }

    private static List<long[]> merged(List<VmaInfo> vmas) {
        List<long[]> out = new java.util.ArrayList<>();
        for (VmaInfo v : vmas) {
            long shared = v.vmFlags() & dev.pagehop.xfer.VmaSpec.VM_SHARED;
            long[] last = out.isEmpty() ? null : out.getLast();
            if (last != null && last[1] == v.start() && last[2] == v.prot() && last[3] == shared) {
                last[1] = v.end();
            } else {
                out.add(new long[] {v.start(), v.end(), v.prot(), shared});
            }
        }
        return out;
    }

    static void assertSameCpu(EmulatedProcess a, EmulatedProcess b) {
        assertThat(b.threads()).hasSameSizeAs(a.threads());
        for (int i = 0; i < a.threads().size(); i++) {
            EmulatedThread ta = a.threads().get(i);
            EmulatedThread tb = b.threads().get(i);
            CpuState ca = ta.cpu();
            assertThat(tb.tid()).isEqualTo(ta.tid());
            assertThat(tb.cpu()).as("thread %d", ta.tid()).isEqualTo(ca);
        }
    }

    @Override
    public void close() {
        control.shutdownNow();
        targetControlChannel.shutdownNow();
        source.close();
        target.close();
    }
}
