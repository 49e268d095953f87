package dev.pagehop.cpu;

/** Condition codes over NZCV held as a 4-bit value (N=8, Z=4, C=2, V=1). */
final class Flags {
    /** For each NZCV value, bit {@code cond} is set when condition {@code cond} holds. */
    static final int[] COND_TABLE = new int[16];

    static {
        for (int f = 0; f < 16; f++) {
            int mask = 0;
            for (int cond = 0; cond < 16; cond++) {
                if (evaluate(f, cond)) {
                    mask |= 1 << cond;
                }
            }
            COND_TABLE[f] = mask;
        }
    }

    private Flags() {
    }

    static boolean holds(int nzcv, int cond) {
        return ((COND_TABLE[nzcv] >>> cond) & 1) != 0;
    }

    /** ConditionHolds() of the Arm ARM: bits 3..1 pick the test, bit 0 inverts it (except AL/NV). */
    private static boolean evaluate(int f, int cond) {
        boolean n = (f & 8) != 0;
        boolean z = (f & 4) != 0;
        boolean c = (f & 2) != 0;
        boolean v = (f & 1) != 0;
        boolean result = switch (cond >>> 1) {
            case 0 -> z;
            case 1 -> c;
            case 2 -> n;
            case 3 -> v;
            case 4 -> c && !z;
            case 5 -> n == v;
            case 6 -> n == v && !z;
            default -> true;
        };
        return (cond & 1) != 0 && cond != 15 ? !result : result;
    }
}
