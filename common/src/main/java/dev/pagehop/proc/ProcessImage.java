package dev.pagehop.proc;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.ThpMode;
import dev.pagehop.workload.PendingOp;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Everything of a process but its page contents, as CRIU's {@code mm.img} + {@code core-*.img}:
 * the kernel configuration (granule, THP, soft-dirty), the heap break, the VMAs with protection,
 * flags and memfd backing, the memfds, each thread's registers, step count and unfinished
 * effects, and the workload (kind, parameters, seed) and rate. The target rebuilds the address
 * space from it ({@link AddressSpaceLayout#rebuild}), fills memory, and
 * {@link EmulatedProcess#restore restores} the threads.
 *
 * <h2>Encoding</h2>
 * Little-endian, self-describing:
 * <pre>
 *   "PHPI" u16 version u16 0
 *   section*   u16 tag, u32 length, payload      tags: 1 PROCESS, 2 WORKLOAD, 3 MEMFD*, 4 VMA*, 5 THREAD*
 *   END        u16 0x00FF, u32 4, u32 CRC32C of every byte before this section
 * </pre>
 * Tags with bit 15 set are optional: a reader that does not know one skips it; an unknown tag
 * without it is refused. A reader accepts versions {@link #MIN_READ_VERSION}..{@link #VERSION}.
 * Strings are u16 length + UTF-8.
 */
public record ProcessImage(
        int pid,
        MmConfig mmConfig,
        long brkStart,
        long brk,
        List<MemfdImage> memfds,
        List<VmaImage> vmas,
        List<ThreadImage> threads,
        WorkloadSpec workload,
        RateLimit rate) {

    public static final int MAGIC = 0x49504850; // "PHPI" little-endian
    public static final int VERSION = 1;
    public static final int MIN_READ_VERSION = 1;
    static final int TAG_PROCESS = 1;
    static final int TAG_WORKLOAD = 2;
    static final int TAG_MEMFD = 3;
    static final int TAG_VMA = 4;
    static final int TAG_THREAD = 5;
    static final int TAG_END = 0x00FF;
    static final int TAG_OPTIONAL = 0x8000;
    /** Bound on any one section, so a corrupt length cannot make a reader allocate gigabytes. */
    static final int MAX_SECTION_BYTES = 64 << 20;

    /** A memfd some VMA maps; {@code id} is local to the image. */
    public record MemfdImage(int id, String name, long size) {
    }

    /** One VMA; {@code memfdId} is -1 for anonymous memory. */
    public record VmaImage(long start, long end, int prot, long vmFlags, int memfdId, long fileOffset) {
        public long length() {
            return end - start;
        }
    }

    /**
     * One thread: its registers where it stopped, the steps it completed, and the effects of a
     * step it was applying when it parked in a userfault (empty at a step boundary).
     */
    public record ThreadImage(int tid, long steps, CpuState cpu, List<PendingOp> pending, boolean parkedInFault,
            long faultAddress) {
        public ThreadImage {
            cpu = cpu.copy();
            pending = List.copyOf(pending);
        }

        @Override
        public CpuState cpu() {
            return cpu.copy();
        }
    }

    public ProcessImage {
        memfds = List.copyOf(memfds);
        vmas = List.copyOf(vmas);
        threads = List.copyOf(threads);
        validate(pid, mmConfig, brkStart, brk, memfds, vmas, threads, workload, rate);
    }

    private static void validate(int pid, MmConfig mmConfig, long brkStart, long brk, List<MemfdImage> memfds,
            List<VmaImage> vmas, List<ThreadImage> threads, WorkloadSpec workload, RateLimit rate) {
        if (pid <= 0) {
            throw new ImageFormatException("process image: pid " + pid + " is not positive");
        }
        if (mmConfig == null || workload == null || rate == null) {
            throw new ImageFormatException("process image of pid " + pid + " lacks its mm config, workload or rate");
        }
        long ps = mmConfig.granule().pageSize();
        if (brk < brkStart) {
            throw new ImageFormatException(String.format("process image of pid %d: brk 0x%x below start_brk 0x%x", pid, brk, brkStart));
        }
        Set<Integer> ids = new HashSet<>();
        for (MemfdImage m : memfds) {
            if (!ids.add(m.id())) {
                throw new ImageFormatException("process image of pid " + pid + ": memfd id " + m.id() + " appears twice");
            }
        }
        long prevEnd = Long.MIN_VALUE;
        for (VmaImage v : vmas) {
            if (v.start() >= v.end() || (v.start() & (ps - 1)) != 0 || (v.end() & (ps - 1)) != 0) {
                throw new ImageFormatException(String.format(
                        "process image of pid %d: VMA [0x%x, 0x%x) is empty or not aligned to %d-byte pages",
                        pid, v.start(), v.end(), ps));
            }
            if (v.start() < prevEnd) {
                throw new ImageFormatException(String.format(
                        "process image of pid %d: VMA [0x%x, 0x%x) overlaps or precedes the one ending at 0x%x",
                        pid, v.start(), v.end(), prevEnd));
            }
            if ((v.prot() & ~7) != 0) {
                throw new ImageFormatException(String.format(
                        "process image of pid %d: VMA [0x%x, 0x%x) has protection 0x%x, beyond PROT_READ|PROT_WRITE|PROT_EXEC",
                        pid, v.start(), v.end(), v.prot()));
            }
            if (v.memfdId() != -1 && !ids.contains(v.memfdId())) {
                throw new ImageFormatException(String.format(
                        "process image of pid %d: VMA [0x%x, 0x%x) maps memfd %d, which the image does not declare",
                        pid, v.start(), v.end(), v.memfdId()));
            }
            prevEnd = v.end();
        }
        if (threads.isEmpty()) {
            throw new ImageFormatException("process image of pid " + pid + " has no threads");
        }
        Set<Integer> tids = new HashSet<>();
        for (ThreadImage t : threads) {
            if (!tids.add(t.tid())) {
                throw new ImageFormatException("process image of pid " + pid + ": thread " + t.tid() + " appears twice");
            }
            if (!t.parkedInFault() && t.faultAddress() != -1) {
                throw new ImageFormatException(String.format(
                        "process image of pid %d: thread %d is not parked in a userfault but has fault address 0x%x",
                        pid, t.tid(), t.faultAddress()));
            }
            if (t.steps() < 0) {
                throw new ImageFormatException("process image of pid " + pid + ": thread " + t.tid()
                        + " has a negative step count " + t.steps());
            }
        }
    }

    // --- encoding ----------------------------------------------------------------------------------

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Writer w = new Writer();
        w.putInt(MAGIC).putShort(VERSION).putShort(0);
        w.flushTo(out);

        w.putInt(pid).putInt(mmConfig.granule().pageShift()).putInt(thpCode(mmConfig.thp()))
                .putInt(mmConfig.softDirty() ? 1 : 0).putLong(brkStart).putLong(brk);
        section(out, TAG_PROCESS, w);

        w.putString(workload.kind()).putLong(workload.seed()).putInt(workload.params().size());
        workload.params().forEach((k, v) -> w.putString(k).putString(v));
        w.putInt(rate.unit().ordinal()).putDouble(rate.perSecond());
        section(out, TAG_WORKLOAD, w);

        for (MemfdImage m : memfds) {
            w.putInt(m.id()).putString(m.name()).putLong(m.size());
            section(out, TAG_MEMFD, w);
        }
        for (VmaImage v : vmas) {
            w.putLong(v.start()).putLong(v.end()).putInt(v.prot()).putLong(v.vmFlags()).putInt(v.memfdId())
                    .putLong(v.fileOffset());
            section(out, TAG_VMA, w);
        }
        for (ThreadImage t : threads) {
            byte[] regs = t.cpu.toBytes();
            w.putInt(t.tid()).putLong(t.steps()).putInt(t.parkedInFault() ? 1 : 0).putLong(t.faultAddress())
                    .putInt(regs.length).putBytes(regs).putInt(t.pending().size());
            for (PendingOp op : t.pending()) {
                w.putInt(op.kind().code()).putLong(op.address()).putLong(op.length()).putLong(op.value()).putLong(op.arg());
            }
            section(out, TAG_THREAD, w);
        }
        CRC32C crc = new CRC32C();
        byte[] body = out.toByteArray();
        crc.update(body);
        w.putInt((int) crc.getValue());
        section(out, TAG_END, w);
        return out.toByteArray();
    }

    private static void section(ByteArrayOutputStream out, int tag, Writer payload) {
        byte[] p = payload.take();
        ByteBuffer h = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) tag).putInt(p.length);
        out.writeBytes(h.array());
        out.writeBytes(p);
    }

    /** Decodes an image; every failure names what was wrong and where. */
    public static ProcessImage decode(byte[] bytes) {
        if (bytes == null || bytes.length < 8) {
            throw new ImageFormatException("process image of " + (bytes == null ? "null" : bytes.length + " bytes")
                    + " is shorter than its 8-byte header (truncated?)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt();
        if (magic != MAGIC) {
            throw new ImageFormatException(String.format("not a pagehop process image: magic 0x%08x, expected 0x%08x", magic, MAGIC));
        }
        int version = Short.toUnsignedInt(b.getShort());
        if (version < MIN_READ_VERSION || version > VERSION) {
            throw new ImageFormatException("process image format version " + version + " is not supported (this build reads "
                    + MIN_READ_VERSION + ".." + VERSION + ")");
        }
        b.getShort();

        Integer pid = null;
        MmConfig cfg = null;
        long brkStart = 0;
        long brk = 0;
        WorkloadSpec spec = null;
        RateLimit rate = null;
        List<MemfdImage> memfds = new ArrayList<>();
        List<VmaImage> vmas = new ArrayList<>();
        List<ThreadImage> threads = new ArrayList<>();
        boolean ended = false;
        while (b.hasRemaining()) {
            int sectionStart = b.position();
            if (b.remaining() < 6) {
                throw new ImageFormatException("process image truncated at offset " + sectionStart + ": "
                        + b.remaining() + " bytes left of the " + bytes.length + "-byte image, a section header needs 6");
            }
            int tag = Short.toUnsignedInt(b.getShort());
            int len = b.getInt();
            if (len < 0 || len > MAX_SECTION_BYTES) {
                throw new ImageFormatException(String.format(
                        "process image: section %s at offset %d claims %d bytes, more than the %d a section may hold",
                        tagName(tag), sectionStart, Integer.toUnsignedLong(len), MAX_SECTION_BYTES));
            }
            if (len > b.remaining()) {
                throw new ImageFormatException(String.format(
                        "process image truncated in section %s at offset %d: it claims %d bytes, %d remain of the %d-byte image",
                        tagName(tag), sectionStart, len, b.remaining(), bytes.length));
            }
            if ((tag == TAG_PROCESS && pid != null) || (tag == TAG_WORKLOAD && spec != null)) {
                throw new ImageFormatException("process image: a second " + tagName(tag) + " section at offset " + sectionStart);
            }
            ByteBuffer s = b.slice(b.position(), len).order(ByteOrder.LITTLE_ENDIAN);
            b.position(b.position() + len);
            try {
                switch (tag) {
                    case TAG_PROCESS -> {
                        pid = s.getInt();
                        int shift = s.getInt();
                        Granule g = null;
                        for (Granule c : Granule.values()) {
                            if (c.pageShift() == shift) {
                                g = c;
                            }
                        }
                        if (g == null) {
                            throw new ImageFormatException("process image: page shift " + shift + " is not a granule (12, 14, 16)");
                        }
                        cfg = new MmConfig(g, thpOf(s.getInt()), s.getInt() != 0);
                        brkStart = s.getLong();
                        brk = s.getLong();
                    }
                    case TAG_WORKLOAD -> {
                        String kind = getString(s);
                        long seed = s.getLong();
                        int n = s.getInt();
                        checkCount(n, s, 4, "workload parameters");
                        TreeMap<String, String> params = new TreeMap<>();
                        for (int i = 0; i < n; i++) {
                            params.put(getString(s), getString(s));
                        }
                        int unit = s.getInt();
                        if (unit < 0 || unit >= RateLimit.Unit.values().length) {
                            throw new ImageFormatException("process image: rate unit " + unit + " is unknown");
                        }
                        double perSecond = s.getDouble();
                        try {
                            spec = new WorkloadSpec(kind, params, seed);
                            rate = new RateLimit(RateLimit.Unit.values()[unit], perSecond);
                        } catch (IllegalArgumentException e) {
                            throw new ImageFormatException("process image: workload section: " + e.getMessage());
                        }
                    }
                    case TAG_MEMFD -> memfds.add(new MemfdImage(s.getInt(), getString(s), s.getLong()));
                    case TAG_VMA -> vmas.add(new VmaImage(s.getLong(), s.getLong(), s.getInt(), s.getLong(), s.getInt(), s.getLong()));
                    case TAG_THREAD -> threads.add(readThread(s));
                    case TAG_END -> {
                        CRC32C crc = new CRC32C();
                        crc.update(bytes, 0, sectionStart);
                        int stored = s.getInt();
                        if (stored != (int) crc.getValue()) {
                            throw new ImageFormatException(String.format(
                                    "process image checksum 0x%08x does not match the computed 0x%08x over %d bytes (corrupted?)",
                                    stored, (int) crc.getValue(), sectionStart));
                        }
                        ended = true;
                    }
                    default -> {
                        if ((tag & TAG_OPTIONAL) == 0) {
                            throw new ImageFormatException(String.format(
                                    "process image: section tag 0x%04x at offset %d is unknown and not optional (written by a newer version?)",
                                    tag, sectionStart));
                        }
                    }
                }
            } catch (java.nio.BufferUnderflowException e) {
                throw new ImageFormatException("process image: section " + tagName(tag) + " at offset " + sectionStart
                        + " is shorter (" + len + " bytes) than its fields");
            }
            if (tag != TAG_END && (tag & TAG_OPTIONAL) == 0 && s.hasRemaining()) {
                throw new ImageFormatException("process image: section " + tagName(tag) + " at offset " + sectionStart
                        + " has " + s.remaining() + " bytes after its fields");
            }
            if (ended) {
                break;
            }
        }
        if (!ended) {
            throw new ImageFormatException("process image of " + bytes.length + " bytes has no END section (truncated?)");
        }
        if (b.hasRemaining()) {
            throw new ImageFormatException("process image has " + b.remaining() + " bytes after its END section");
        }
        if (pid == null || spec == null) {
            throw new ImageFormatException("process image lacks its " + (pid == null ? "PROCESS" : "WORKLOAD") + " section");
        }
        return new ProcessImage(pid, cfg, brkStart, brk, memfds, vmas, threads, spec, rate);
    }

    private static ThreadImage readThread(ByteBuffer s) {
        int tid = s.getInt();
        long steps = s.getLong();
        boolean parked = s.getInt() != 0;
        long fault = s.getLong();
        int regLen = s.getInt();
        if (regLen != CpuState.SERIALIZED_BYTES) {
            throw new ImageFormatException("process image: thread " + tid + " registers are " + regLen
                    + " bytes, expected " + CpuState.SERIALIZED_BYTES);
        }
        byte[] regs = new byte[regLen];
        s.get(regs);
        CpuState cpu;
        try {
            cpu = CpuState.fromBytes(regs);
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException("process image: thread " + tid + " registers: " + e.getMessage());
        }
        int n = s.getInt();
        checkCount(n, s, 36, "pending effects of thread " + tid);
        List<PendingOp> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int code = s.getInt();
            try {
                ops.add(new PendingOp(PendingOp.Kind.ofCode(code), s.getLong(), s.getLong(), s.getLong(), s.getLong()));
            } catch (IllegalArgumentException e) {
                throw new ImageFormatException("process image: thread " + tid + " pending effect " + i + ": " + e.getMessage());
            }
        }
        return new ThreadImage(tid, steps, cpu, ops, parked, fault);
    }

    private static void checkCount(int n, ByteBuffer s, int minBytesEach, String what) {
        if (n < 0 || (long) n * minBytesEach > s.remaining()) {
            throw new ImageFormatException("process image: " + n + " " + what + " cannot fit in the "
                    + s.remaining() + " bytes left of the section");
        }
    }

    private static String getString(ByteBuffer s) {
        int len = Short.toUnsignedInt(s.getShort());
        byte[] b = new byte[len];
        s.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String tagName(int tag) {
        return switch (tag) {
            case TAG_PROCESS -> "PROCESS";
            case TAG_WORKLOAD -> "WORKLOAD";
            case TAG_MEMFD -> "MEMFD";
            case TAG_VMA -> "VMA";
            case TAG_THREAD -> "THREAD";
            case TAG_END -> "END";
            default -> String.format("0x%04x", tag);
        };
    }

    private static int thpCode(ThpMode m) {
        return switch (m) {
            case ALWAYS -> 1;
            case MADVISE -> 2;
            case NEVER -> 3;
        };
    }

    private static ThpMode thpOf(int code) {
        for (ThpMode m : EnumSet.allOf(ThpMode.class)) {
            if (thpCode(m) == code) {
                return m;
            }
        }
        throw new ImageFormatException("process image: THP mode code " + code + " is unknown (1 always, 2 madvise, 3 never)");
    }

    /** A readable summary, one line per VMA and thread. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("pid %d, %s granule, thp %s, soft-dirty %s, brk [0x%x, 0x%x), workload %s at %s%n",
                pid, mmConfig.granule(), mmConfig.thp(), mmConfig.softDirty(), brkStart, brk, workload, rate));
        for (MemfdImage m : memfds) {
            b.append(String.format("  memfd %d '%s' %d bytes%n", m.id(), m.name(), m.size()));
        }
        for (VmaImage v : vmas) {
            b.append(String.format("  %012x-%012x %s flags 0x%x%s%n", v.start(), v.end(), protString(v.prot()), v.vmFlags(),
                    v.memfdId() < 0 ? "" : " memfd " + v.memfdId() + " +0x" + Long.toHexString(v.fileOffset())));
        }
        for (ThreadImage t : threads) {
            b.append(String.format("  thread %d: %d steps, pc 0x%x%s%n", t.tid(), t.steps(), t.cpu.pc(),
                    t.parkedInFault() ? String.format(", parked in a userfault at 0x%x with %d effects pending",
                            t.faultAddress(), t.pending().size()) : ""));
        }
        return b.toString();
    }

    static String protString(int prot) {
        return ((prot & 1) != 0 ? "r" : "-") + ((prot & 2) != 0 ? "w" : "-") + ((prot & 4) != 0 ? "x" : "-");
    }

    /** A growable little-endian buffer for one section. */
    private static final class Writer {
        private ByteBuffer buf = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (buf.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        Writer putInt(int v) {
            ensure(4);
            buf.putInt(v);
            return this;
        }

        Writer putShort(int v) {
            ensure(2);
            buf.putShort((short) v);
            return this;
        }

        Writer putLong(long v) {
            ensure(8);
            buf.putLong(v);
            return this;
        }

        Writer putDouble(double v) {
            ensure(8);
            buf.putDouble(v);
            return this;
        }

        Writer putBytes(byte[] v) {
            ensure(v.length);
            buf.put(v);
            return this;
        }

        Writer putString(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > 0xFFFF) {
                throw new IllegalArgumentException("string of " + b.length + " bytes is too long for a process image");
            }
            return putShort(b.length).putBytes(b);
        }

        byte[] take() {
            byte[] out = new byte[buf.position()];
            buf.flip();
            buf.get(out);
            buf.clear();
            return out;
        }

        void flushTo(ByteArrayOutputStream out) {
            out.writeBytes(take());
        }
    }
}
