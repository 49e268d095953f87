package dev.pagehop.cli;

import dev.pagehop.cli.agent.AgentAddress;
import dev.pagehop.cli.demo.AgentLauncher;
import dev.pagehop.proto.control.v1.AgentRole;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs {@code pagehop} commands inside the test against agents on the in-process transport; the
 * in-process server name is the agent's "host:port", so commands address them exactly as users
 * address real agents.
 */
final class CliHarness implements AutoCloseable {
    private static final AtomicInteger SEQ = new AtomicInteger();

    record Result(int exitCode, String out, String err) {
    }

    final FakeAgent source;
    final FakeAgent target;
    final AgentAddress sourceAddress;
    final AgentAddress targetAddress;
    private final List<Server> servers = new ArrayList<>();
    Terminal terminal = new Terminal(false, 120);
    AgentLauncher launcher;

    CliHarness() throws IOException {
        int n = SEQ.incrementAndGet();
        sourceAddress = new AgentAddress("source-" + n, 7070);
        targetAddress = new AgentAddress("target-" + n, 7071);
        source = new FakeAgent(AgentRole.AGENT_ROLE_SOURCE, "src");
        target = new FakeAgent(AgentRole.AGENT_ROLE_TARGET, "tgt");
        serve(sourceAddress, source);
        serve(targetAddress, target);
    }

    void serve(AgentAddress address, FakeAgent agent) throws IOException {
        servers.add(InProcessServerBuilder.forName(address.toString()).directExecutor().addService(agent).build().start());
    }

    CliContext context() {
        return new CliContext(a -> InProcessChannelBuilder.forName(a.toString()).directExecutor().build(), terminal,
                launcher);
    }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine cl = Pagehop.commandLine(context());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Runs a command against the fake source agent. */
    Result onSource(String... args) {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--agent";
        all[args.length + 1] = sourceAddress.toString();
        return run(all);
    }

    @Override
    public void close() throws InterruptedException {
        for (Server s : servers) {
            s.shutdownNow();
            s.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
