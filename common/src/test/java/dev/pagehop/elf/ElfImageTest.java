package dev.pagehop.elf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.syscall.TestPrograms;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class ElfImageTest {

    /** A minimal valid header with one PT_LOAD of 16 bytes at 0x400000. */
    static byte[] minimal() {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) ElfImage.ET_EXEC).putShort(18, (short) ElfImage.EM_AARCH64);
        b.putLong(24, 0x400078).putLong(32, 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, ElfImage.PT_LOAD).putInt(68, ElfImage.PF_R | ElfImage.PF_X).putLong(72, 0)
                .putLong(80, 0x400000).putLong(96, 64 + 56 + 16).putLong(104, 0x2000).putLong(112, 0x10000);
        return b.array();
    }

    @Test
    void parsesTheMinimalImage() {
        ElfImage image = ElfImage.parse(minimal());
        assertThat(image.entry()).isEqualTo(0x400078);
        assertThat(image.segments()).singleElement().satisfies(s -> {
            assertThat(s.vaddr()).isEqualTo(0x400000);
            assertThat(s.memSize()).isEqualTo(0x2000);
        });
        assertThat(image.phdrVaddr()).as("headers mapped by the segment at offset 0").isEqualTo(0x400040);
    }

    @Test
    void rejectsBadMagicWithTheBytes() {
        byte[] f = minimal();
        f[1] = 'X';
        assertThatThrownBy(() -> ElfImage.parse(f)).isInstanceOf(ElfFormatException.class)
                .hasMessageContaining("bad ELF magic 7f 58 4c 46");
    }

    @Test
    void rejectsOtherMachines() {
        byte[] f = minimal();
        f[18] = 62; // EM_X86_64
        assertThatThrownBy(() -> ElfImage.parse(f)).hasMessageContaining("e_machine 62 is not EM_AARCH64 (183)");
    }

    @Test
    void rejectsPieWithAHint() {
        byte[] f = minimal();
        f[16] = ElfImage.ET_DYN;
        assertThatThrownBy(() -> ElfImage.parse(f)).hasMessageContaining("ET_DYN").hasMessageContaining("-no-pie");
    }

    @Test
    void rejectsDynamicallyLinkedPrograms() {
        byte[] f = minimal();
        f[64] = ElfImage.PT_INTERP;
        assertThatThrownBy(() -> ElfImage.parse(f)).hasMessageContaining("PT_INTERP").hasMessageContaining("-static");
    }

    @Test
    void rejectsSegmentsRunningPastTheFile() {
        byte[] f = minimal();
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(96, 0x1000);
        assertThatThrownBy(() -> ElfImage.parse(f)).hasMessageContaining("file range 0x0+0x1000 runs past the file end (136 bytes)");
    }

    @Test
    void rejectsFileSizeLargerThanMemorySize() {
        byte[] f = minimal();
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(104, 8);
        assertThatThrownBy(() -> ElfImage.parse(f)).hasMessageContaining("p_filesz 0x88 larger than p_memsz 0x8");
    }

    @Test
    void rejectsTruncatedHeader() {
        assertThatThrownBy(() -> ElfImage.parse(new byte[10])).hasMessageContaining("10 bytes, shorter than an ELF64 header");
    }

    @Test
    void loadsSegmentsWithTheirProtectionsAndBuildsTheInitialStack() {
        MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K16));
        ElfImage image = ElfImage.parse(TestPrograms.load("hello"));
        byte[] random = new byte[16];
        random[0] = 0x5A;
        ElfLoader.Loaded loaded = ElfLoader.load(mm, image, List.of("hello", "a1"), List.of("K=V"), random);

        ElfImage.Segment text = image.segments().get(0);
        VmaInfo textVma = mm.vmas().stream().filter(v -> v.start() <= text.vaddr() && text.vaddr() < v.end())
                .findFirst().orElseThrow();
        assertThat(textVma.prot()).isEqualTo(Prot.READ | Prot.EXEC);
        assertThat(mm.load32(image.entry())).isEqualTo(ByteBuffer.wrap(image.file()).order(ByteOrder.LITTLE_ENDIAN)
                .getInt((int) (image.entry() - text.vaddr() + text.offset())));
        assertThat(loaded.brkStart() % mm.pageSize()).isZero();
        assertThat(mm.brkStart()).isEqualTo(loaded.brkStart());

        long sp = loaded.initialState().sp();
        assertThat(sp % 16).isZero();
        assertThat(mm.load64(sp)).as("argc").isEqualTo(2);
        assertThat(readString(mm, mm.load64(sp + 16))).isEqualTo("a1");
        assertThat(mm.load64(sp + 24)).as("argv terminator").isZero();
        assertThat(readString(mm, mm.load64(sp + 32))).isEqualTo("K=V");
        assertThat(mm.load64(sp + 40)).as("envp terminator").isZero();
        long aux = sp + 48;
        java.util.Map<Long, Long> auxv = new java.util.HashMap<>();
        for (long type = mm.load64(aux); type != 0; aux += 16, type = mm.load64(aux)) {
            auxv.put(type, mm.load64(aux + 8));
        }
        assertThat(auxv).containsEntry(6L, 16384L).containsEntry(9L, image.entry()).containsEntry(5L, (long) image.phnum())
                .containsEntry(16L, ElfLoader.HWCAP);
        assertThat(mm.load8(auxv.get(25L))).as("AT_RANDOM bytes").isEqualTo(0x5A);
        assertThat(mm.load32(auxv.get(3L))).as("AT_PHDR points at the first program header (PT_LOAD = 1)")
                .isEqualTo(ByteBuffer.wrap(image.file()).order(ByteOrder.LITTLE_ENDIAN).getInt((int) image.phoff()));
        assertThat(readString(mm, auxv.get(15L))).isEqualTo("aarch64");
    }

    private static String readString(MemoryManager mm, long addr) {
        StringBuilder sb = new StringBuilder();
        for (int c = mm.load8(addr); c != 0; c = mm.load8(++addr)) {
            sb.append((char) c);
        }
        return sb.toString();
    }
}
