package dev.pagehop.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.cpu.CpuState;
import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.ThpMode;
import dev.pagehop.workload.PendingOp;
import dev.pagehop.workload.RateLimit;
import dev.pagehop.workload.WorkloadSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ProcessImageTest {
    private static final long P = 4096;

    static ProcessImage sample() {
        CpuState cpu = new CpuState();
        cpu.setX(0, 42);
        cpu.setPc(0x400010);
        cpu.setSp(0xffff_f000L);
        cpu.setNzcv(true, false, true, false);
        cpu.setV(31, -1, 7);
        cpu.setFpsr(0x8000000);
        List<PendingOp> pending = List.of(new PendingOp(PendingOp.Kind.STORE, 0x10000, 8, -5, 0),
                new PendingOp(PendingOp.Kind.MREMAP_FIXED, 0x20000, P, P, 0x30000));
        return new ProcessImage(200, new MmConfig(Granule.K4, ThpMode.ALWAYS, true), 0x10000, 0x12345,
                List.of(new ProcessImage.MemfdImage(0, "shm ü", 8 * P)),
                List.of(new ProcessImage.VmaImage(0x10000, 0x13000, 3, 0x73, -1, 0),
                        new ProcessImage.VmaImage(0x20000, 0x22000, 1, 0xf9, 0, 2 * P)),
                List.of(new ProcessImage.ThreadImage(200, 7, cpu, List.of(), false, -1),
                        new ProcessImage.ThreadImage(201, 9, new CpuState(), pending, true, 0x10008)),
                WorkloadSpec.parse("zipf:hotPages=8,skew=0.5@-3"), RateLimit.mebibytesPerSecond(2.5));
    }

    @Test
    void roundTripsExactlyAndDeterministically() {
        ProcessImage img = sample();
        byte[] bytes = img.encode();
        assertThat(ProcessImage.decode(bytes)).isEqualTo(img);
        assertThat(sample().encode()).isEqualTo(bytes);
        assertThat(img.describe()).contains("pid 200", "K4", "memfd 0 'shm ü'", "thread 201: 9 steps",
                "parked in a userfault at 0x10008 with 2 effects pending");
    }

    @Provide
    Arbitrary<ProcessImage> images() {
        Arbitrary<CpuState> cpus = Arbitraries.longs().list().ofSize(4).map(l -> {
            CpuState c = new CpuState();
            c.setX(5, l.get(0));
            c.setPc(l.get(1));
            c.setV(3, l.get(2), l.get(3));
            return c;
        });
        Arbitrary<PendingOp> ops = Combinators.combine(Arbitraries.of(PendingOp.Kind.values()), Arbitraries.longs(),
                Arbitraries.longs()).as((k, a, v) -> new PendingOp(k, a, k == PendingOp.Kind.STORE ? 4 : P, v, a ^ v));
        Arbitrary<ProcessImage.ThreadImage> threads = Combinators.combine(Arbitraries.longs().between(0, 1L << 40), cpus,
                ops.list().ofMaxSize(5), Arbitraries.of(true, false))
                .as((steps, cpu, pend, parked) -> new ProcessImage.ThreadImage(0, steps, cpu, pend, parked, parked ? 0x1000 : -1));
        return Combinators.combine(threads.list().ofMinSize(1).ofMaxSize(4), Arbitraries.integers().between(1, 40),
                Arbitraries.longs(), Arbitraries.of(Granule.values())).as((ts, vmaCount, seed, g) -> {
                    List<ProcessImage.ThreadImage> numbered = new ArrayList<>();
                    for (int i = 0; i < ts.size(); i++) {
                        ProcessImage.ThreadImage t = ts.get(i);
                        numbered.add(new ProcessImage.ThreadImage(300 + i, t.steps(), t.cpu(), t.pending(), t.parkedInFault(),
                                t.faultAddress()));
                    }
                    long ps = g.pageSize();
                    List<ProcessImage.VmaImage> vmas = new ArrayList<>();
                    for (int i = 0; i < vmaCount; i++) {
                        long start = (0x100 + 3L * i) * ps;
                        vmas.add(new ProcessImage.VmaImage(start, start + (1 + i % 2) * ps, i % 8, i * 0x101L, -1, 0));
                    }
                    return new ProcessImage(300, MmConfig.arm64(g), 0x40 * ps, 0x40 * ps + 5, List.of(), vmas, numbered,
                            WorkloadSpec.of("kv", seed).with("keys", 10), RateLimit.unlimited());
                });
    }

    @Property(tries = 200)
    void anyImageRoundTrips(@ForAll("images") ProcessImage img) {
        assertThat(ProcessImage.decode(img.encode())).isEqualTo(img);
    }

    @Property(tries = 300)
    void everyFlippedByteIsRefusedAsAFormatError(@ForAll @IntRange(min = 0, max = 10_000) int at,
            @ForAll @IntRange(min = 1, max = 255) int xor) {
        byte[] bytes = sample().encode();
        bytes[at % bytes.length] ^= (byte) xor;
        assertThatThrownBy(() -> ProcessImage.decode(bytes)).isInstanceOf(ImageFormatException.class);
    }

    @Test
    void headerErrorsNameWhatWasFound() {
        byte[] bytes = sample().encode();
        byte[] magic = bytes.clone();
        magic[0] = 'X';
        assertThatThrownBy(() -> ProcessImage.decode(magic)).hasMessageContaining("not a pagehop process image: magic 0x49504858");
        byte[] newer = bytes.clone();
        newer[4] = 2;
        assertThatThrownBy(() -> ProcessImage.decode(newer))
                .hasMessageContaining("format version 2 is not supported (this build reads 1..1)");
        assertThatThrownBy(() -> ProcessImage.decode(new byte[3])).hasMessageContaining("3 bytes is shorter than its 8-byte header");
        byte[] tail = Arrays.copyOf(bytes, bytes.length + 2);
        assertThatThrownBy(() -> ProcessImage.decode(tail)).hasMessageContaining("2 bytes after its END section");
        byte[] crc = bytes.clone();
        crc[crc.length - 1] ^= 1;
        assertThatThrownBy(() -> ProcessImage.decode(crc)).hasMessageContaining("checksum").hasMessageContaining("does not match");
    }

    @Test
    void everyTruncationSaysSoNamingTheSectionCutAndTheBytesLeft() {
        byte[] bytes = sample().encode();
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThatThrownBy(() -> ProcessImage.decode(cut)).as("image cut to %d of %d bytes", n, bytes.length)
                    .isInstanceOf(ImageFormatException.class).hasMessageContaining("truncated");
        }
        int[] thread = sections(bytes).stream().filter(s -> s[0] == ProcessImage.TAG_THREAD).findFirst().orElseThrow();
        int at = thread[1];
        byte[] midThread = Arrays.copyOf(bytes, at + 6 + 10);
        assertThatThrownBy(() -> ProcessImage.decode(midThread)).hasMessage(String.format(
                "process image truncated in section THREAD at offset %d: it claims %d bytes, 10 remain of the %d-byte image",
                at, thread[2], at + 16));
        byte[] midHeader = Arrays.copyOf(bytes, at + 3);
        assertThatThrownBy(() -> ProcessImage.decode(midHeader)).hasMessage(String.format(
                "process image truncated at offset %d: 3 bytes left of the %d-byte image, a section header needs 6", at, at + 3));
        byte[] beforeEnd = Arrays.copyOf(bytes, bytes.length - 10);
        assertThatThrownBy(() -> ProcessImage.decode(beforeEnd)).hasMessage(
                "process image of " + beforeEnd.length + " bytes has no END section (truncated?)");
    }

    @Test
    void versionsOutsideTheReadableRangeAreRefusedNamingTheVersion() {
        for (int v : new int[] {0, ProcessImage.VERSION + 1, 0xffff}) {
            byte[] bytes = sample().encode();
            bytes[4] = (byte) v;
            bytes[5] = (byte) (v >>> 8);
            assertThatThrownBy(() -> ProcessImage.decode(bytes)).isInstanceOf(ImageFormatException.class).hasMessage(
                    "process image format version " + v + " is not supported (this build reads "
                            + ProcessImage.MIN_READ_VERSION + ".." + ProcessImage.VERSION + ")");
        }
    }

    @Test
    void aSecondProcessOrWorkloadSectionIsRefused() {
        byte[] bytes = sample().encode();
        for (int tag : new int[] {ProcessImage.TAG_PROCESS, ProcessImage.TAG_WORKLOAD}) {
            int[] s = sections(bytes).stream().filter(x -> x[0] == tag).findFirst().orElseThrow();
            byte[] twice = withExtraSection(bytes, tag, Arrays.copyOfRange(bytes, s[1] + 6, s[1] + 6 + s[2]));
            assertThatThrownBy(() -> ProcessImage.decode(twice)).isInstanceOf(ImageFormatException.class)
                    .hasMessage("process image: a second " + (tag == ProcessImage.TAG_PROCESS ? "PROCESS" : "WORKLOAD")
                            + " section at offset " + (bytes.length - 10));
        }
    }

    /** (tag, offset, payload length) of every section, read from the headers. */
    private static List<int[]> sections(byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        List<int[]> out = new ArrayList<>();
        for (int at = 8; at < image.length; at += 6 + b.getInt(at + 2)) {
            out.add(new int[] {Short.toUnsignedInt(b.getShort(at)), at, b.getInt(at + 2)});
        }
        return out;
    }

    @Test
    void unknownOptionalSectionsAreSkippedAndUnknownMandatoryOnesRefused() {
        ProcessImage img = sample();
        assertThat(ProcessImage.decode(withExtraSection(img.encode(), 0x8123))).isEqualTo(img);
        assertThatThrownBy(() -> ProcessImage.decode(withExtraSection(img.encode(), 0x0042)))
                .hasMessageContaining("section tag 0x0042").hasMessageContaining("unknown and not optional");
    }

    /** Inserts a 3-byte section with {@code tag} before END and re-seals the checksum. */
    private static byte[] withExtraSection(byte[] image, int tag) {
        return withExtraSection(image, tag, new byte[] {1, 2, 3});
    }

    /** Inserts a section with {@code tag} and {@code payload} before END and re-seals the checksum. */
    private static byte[] withExtraSection(byte[] image, int tag, byte[] payload) {
        int endAt = image.length - 10;
        ByteBuffer b = ByteBuffer.allocate(image.length + 6 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(image, 0, endAt);
        b.putShort((short) tag).putInt(payload.length).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putShort((short) 0xFF).putInt(4).putInt((int) crc.getValue());
        return b.array();
    }

    @Test
    void inconsistentContentsAreRefusedNamingTheValues() {
        ProcessImage s = sample();
        MmConfig cfg = s.mmConfig();
        var t = s.threads();
        var spec = s.workload();
        var rate = s.rate();
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0x10000, 0x100, s.memfds(), s.vmas(), t, spec, rate))
                .hasMessageContaining("brk 0x100 below start_brk 0x10000");
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0, 0, s.memfds(),
                List.of(new ProcessImage.VmaImage(0x10000, 0x13000, 3, 0, -1, 0),
                        new ProcessImage.VmaImage(0x12000, 0x14000, 3, 0, -1, 0)), t, spec, rate))
                .hasMessageContaining("VMA [0x12000, 0x14000) overlaps or precedes the one ending at 0x13000");
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0, 0, s.memfds(),
                List.of(new ProcessImage.VmaImage(0x10000, 0x10800, 3, 0, -1, 0)), t, spec, rate))
                .hasMessageContaining("not aligned to 4096-byte pages");
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0, 0, List.of(),
                List.of(new ProcessImage.VmaImage(0x10000, 0x11000, 3, 0, 4, 0)), t, spec, rate))
                .hasMessageContaining("maps memfd 4, which the image does not declare");
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0, 0, List.of(), List.of(), List.of(t.get(0), t.get(0)), spec, rate))
                .hasMessageContaining("thread 200 appears twice");
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0, 0, List.of(), List.of(), List.of(), spec, rate))
                .hasMessageContaining("has no threads");
        assertThatThrownBy(() -> new ProcessImage(0, cfg, 0, 0, List.of(), List.of(), t, spec, rate))
                .hasMessageContaining("pid 0 is not positive");
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0, 0, List.of(),
                List.of(new ProcessImage.VmaImage(0x10000, 0x11000, 0x13, 0, -1, 0)), t, spec, rate))
                .isInstanceOf(ImageFormatException.class)
                .hasMessageContaining("VMA [0x10000, 0x11000) has protection 0x13, beyond PROT_READ|PROT_WRITE|PROT_EXEC");
        assertThatThrownBy(() -> new ProcessImage(200, cfg, 0, 0, List.of(), List.of(),
                List.of(new ProcessImage.ThreadImage(200, 1, new CpuState(), List.of(), false, 0x5000)), spec, rate))
                .isInstanceOf(ImageFormatException.class)
                .hasMessageContaining("thread 200 is not parked in a userfault but has fault address 0x5000");
    }
}
