package dev.pagehop.proc;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.workload.WorkloadSpec;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Runs workloads to a step count and prints one line per run: what two runs must agree on
 * (memory digest, a hash of every thread's registers, the step counts). {@link #main} lets a
 * test compare runs in separate JVMs.
 */
final class DeterminismProbe {
    private DeterminismProbe() {
    }

    /** Arguments: triples of spec, thread count, steps per thread. */
    public static void main(String[] args) {
        if (args.length % 3 != 0) {
            throw new IllegalArgumentException(args.length + " arguments are not (spec, threads, steps) triples");
        }
        for (int i = 0; i < args.length; i += 3) {
            System.out.println(line(args[i], Integer.parseInt(args[i + 1]), Long.parseLong(args[i + 2])));
        }
    }

    static String line(String spec, int threads, long steps) {
        try (EmulatedProcess p = ProcessTesting.runTo(ProcessTesting.freshMemory(Granule.K4), WorkloadSpec.parse(spec),
                threads, steps)) {
            ProcessTesting.Snapshot s = ProcessTesting.snapshot(p);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (CpuState c : s.registers()) {
                sha.update(c.toBytes());
            }
            return spec + " x" + threads + " memory " + s.digest() + " registers "
                    + HexFormat.of().formatHex(sha.digest()) + " steps " + s.steps();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
