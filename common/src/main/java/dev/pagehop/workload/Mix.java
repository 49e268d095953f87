package dev.pagehop.workload;

import dev.pagehop.cpu.CpuState;

/**
 * The random stream and hash of the built-in workloads: SplitMix64 (Steele, Lea, Flood 2014;
 * the JDK's {@code SplittableRandom} uses the same constants). Its whole state is one 64-bit
 * word, kept in register {@link #RNG_REGISTER} of the thread, so it migrates with the registers.
 */
final class Mix {
    static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    static final int RNG_REGISTER = 21;

    private Mix() {
    }

    /** The SplitMix64 finaliser (a bijection with good avalanche). */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Advances the thread's random stream and returns the next 64 random bits. */
    static long next(CpuState cpu) {
        long s = cpu.x(RNG_REGISTER) + GOLDEN_GAMMA;
        cpu.setX(RNG_REGISTER, s);
        return mix64(s);
    }

    /** A value uniformly in [0, bound) from random bits (bound > 0). */
    static long below(long random, long bound) {
        return Long.remainderUnsigned(random, bound);
    }

    /** A uniform double in [0, 1) from the top 53 random bits. */
    static double unit(long random) {
        return (random >>> 11) * 0x1.0p-53;
    }
}
