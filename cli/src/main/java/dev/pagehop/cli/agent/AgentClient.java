package dev.pagehop.cli.agent;

import dev.pagehop.cli.CliFailure;
import dev.pagehop.cli.ExitCode;
import dev.pagehop.proto.control.v1.AgentControlGrpc;
import dev.pagehop.proto.control.v1.AgentInfo;
import dev.pagehop.proto.control.v1.CancelMigrationRequest;
import dev.pagehop.proto.control.v1.GetAgentInfoRequest;
import dev.pagehop.proto.control.v1.GetMigrationRequest;
import dev.pagehop.proto.control.v1.InspectProcessRequest;
import dev.pagehop.proto.control.v1.KillProcessRequest;
import dev.pagehop.proto.control.v1.ListMigrationsRequest;
import dev.pagehop.proto.control.v1.ListProcessesRequest;
import dev.pagehop.proto.control.v1.MigrationEvent;
import dev.pagehop.proto.control.v1.MigrationInfo;
import dev.pagehop.proto.control.v1.ProcessInfo;
import dev.pagehop.proto.control.v1.ProcessInspection;
import dev.pagehop.proto.control.v1.RecoverMigrationRequest;
import dev.pagehop.proto.control.v1.SpawnRequest;
import dev.pagehop.proto.control.v1.StartMigrationRequest;
import dev.pagehop.proto.control.v1.WatchMigrationRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One agent's AgentControl service, with every failure turned into a {@link CliFailure} naming
 * the agent and its address. Unary calls carry a deadline; the watch stream has none, because a
 * migration may legitimately run for minutes (its own timeouts end it).
 */
public final class AgentClient implements AutoCloseable {

    private final String role;
    private final AgentAddress address;
    private final ManagedChannel channel;
    private final long deadlineMs;

    public AgentClient(String role, AgentAddress address, AgentChannels channels, long deadlineMs) {
        this.role = role;
        this.address = address;
        this.channel = channels.open(address);
        this.deadlineMs = deadlineMs;
    }

    /** "source agent at 127.0.0.1:7070", as every message names the peer. */
    public String who() {
        return role + " at " + address;
    }

    public AgentAddress address() {
        return address;
    }

    private AgentControlGrpc.AgentControlBlockingStub stub() {
        return AgentControlGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
    }

    private <T> T call(String name, Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw GrpcFailures.translate(e, who(), name, deadlineMs);
        }
    }

    public AgentInfo info() {
        return call("GetAgentInfo", () -> stub().getAgentInfo(GetAgentInfoRequest.getDefaultInstance()));
    }

    /** Waits (up to {@code waitMs}) for the agent to start listening, then asks who it is. */
    public AgentInfo awaitInfo(long waitMs) {
        try {
            return AgentControlGrpc.newBlockingStub(channel).withWaitForReady()
                    .withDeadlineAfter(waitMs, TimeUnit.MILLISECONDS)
                    .getAgentInfo(GetAgentInfoRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED) {
                throw new CliFailure(ExitCode.UNREACHABLE, who() + " did not start answering within " + waitMs + " ms", e);
            }
            throw GrpcFailures.translate(e, who(), "GetAgentInfo", waitMs);
        }
    }

    public ProcessInfo spawn(SpawnRequest request) {
        return call("Spawn", () -> stub().spawn(request));
    }

    public List<ProcessInfo> processes() {
        return call("ListProcesses", () -> stub().listProcesses(ListProcessesRequest.getDefaultInstance()).getProcessesList());
    }

    public ProcessInspection inspect(int pid, boolean checkIntegrity) {
        return call("InspectProcess", () -> stub().inspectProcess(InspectProcessRequest.newBuilder()
                .setPid(pid).setCheckIntegrity(checkIntegrity).build()));
    }

    public ProcessInfo kill(int pid) {
        return call("KillProcess", () -> stub().killProcess(KillProcessRequest.newBuilder().setPid(pid).build()));
    }

    public MigrationInfo startMigration(StartMigrationRequest request) {
        return call("StartMigration", () -> stub().startMigration(request));
    }

    public MigrationInfo migration(String id) {
        return call("GetMigration", () -> stub().getMigration(GetMigrationRequest.newBuilder().setMigrationId(id).build()));
    }

    public List<MigrationInfo> migrations() {
        return call("ListMigrations", () -> stub().listMigrations(ListMigrationsRequest.getDefaultInstance()).getMigrationsList());
    }

    public MigrationInfo cancel(String id) {
        return call("CancelMigration", () -> stub().cancelMigration(CancelMigrationRequest.newBuilder()
                .setMigrationId(id).build()));
    }

    public MigrationInfo recover(String id) {
        return call("RecoverMigration", () -> stub().recoverMigration(RecoverMigrationRequest.newBuilder()
                .setMigrationId(id).build()));
    }

    /** The event stream of one migration; failures surface from {@code hasNext}/{@code next} as CliFailure. */
    public Iterator<MigrationEvent> watch(String id, long progressIntervalMs) {
        Iterator<MigrationEvent> raw = call("WatchMigration", () -> AgentControlGrpc.newBlockingStub(channel)
                .watchMigration(WatchMigrationRequest.newBuilder().setMigrationId(id)
                        .setProgressIntervalMs(progressIntervalMs).build()));
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return call("WatchMigration", raw::hasNext);
            }

            @Override
            public MigrationEvent next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("the watch stream of migration " + id + " has ended");
                }
                return call("WatchMigration", raw::next);
            }
        };
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
