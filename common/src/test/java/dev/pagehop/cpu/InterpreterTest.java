package dev.pagehop.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.SegmentationFault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Instruction semantics against hand-worked values (the snippets' assembly is in {@link Snippets}). */
class InterpreterTest {
    private static final int N = 8;
    private static final int Z = 4;
    private static final int C = 2;
    private static final int V = 1;

    @ParameterizedTest(name = "adds {0} + {1}")
    @CsvSource({
        "0x7fffffffffffffff, 1, 0x8000000000000000, 9",
        "0xffffffffffffffff, 1, 0, 6",
        "0x8000000000000000, 0x8000000000000000, 0, 7",
        "2, 3, 5, 0",
    })
    void addsSetsAllFourFlags(String a, String b, String sum, int flags) {
        Machine m = new Machine(Snippets.ADDS_X).x(0, parse(a)).x(1, parse(b)).run();
        assertThat(m.x(2)).isEqualTo(parse(sum));
        assertThat(m.nzcv()).isEqualTo(flags);
    }

    private static long parse(String v) {
        return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
    }

    @Test
    void addsOnWRegistersUsesLow32BitsAndZeroExtends() {
        Machine m = new Machine(Snippets.ADDS_W).x(0, 0xFFFFFFFF_7FFFFFFFL).x(1, 1).run();
        assertThat(m.x(2)).isEqualTo(0x80000000L);
        assertThat(m.nzcv()).isEqualTo(N | V);
    }

    @ParameterizedTest(name = "subs {0} - {1}")
    @CsvSource({
        "0, 1, 0xffffffffffffffff, 8",
        "5, 5, 0, 6",
        "0x8000000000000000, 1, 0x7fffffffffffffff, 3",
        "7, 3, 4, 2",
    })
    void subsBorrowIsInvertedCarry(String a, String b, String diff, int flags) {
        Machine m = new Machine(Snippets.SUBS_X).x(0, parse(a)).x(1, parse(b)).run();
        assertThat(m.x(2)).isEqualTo(parse(diff));
        assertThat(m.nzcv()).isEqualTo(flags);
    }

    @Test
    void subsOnWRegisters() {
        Machine m = new Machine(Snippets.SUBS_W).x(0, 0x5_00000000L).x(1, 1).run();
        assertThat(m.x(2)).isEqualTo(0xFFFFFFFFL);
        assertThat(m.nzcv()).isEqualTo(N);
    }

    @ParameterizedTest(name = "cmp {0}, #10")
    @CsvSource({"-5, 0, 0, 0", "20, 1, 0, 1", "3, 0, 1, 0"})
    void signedAndUnsignedConditionsDiffer(long x0, long skippedMov, long lo, long ge) {
        Machine m = new Machine(Snippets.CMP_IMM_BRANCH).x(0, x0).run();
        assertThat(m.x(1)).isEqualTo(skippedMov);
        assertThat(m.x(2)).isEqualTo(lo);
        assertThat(m.x(3)).isEqualTo(ge);
    }

    @Test
    void addAndSubtractWithCarry() {
        Machine m = new Machine(Snippets.ADC_SBC).x(0, 5).x(1, 3);
        m.s.setNzcv(false, false, true, false);
        m.run();
        assertThat(m.x(2)).isEqualTo(9); // 5 + 3 + C(1), clears C
        assertThat(m.x(3)).isEqualTo(1); // 5 - 3 - !C(1), sets C (no borrow)
        assertThat(m.x(4)).isEqualTo(9); // 5 + 3 + C(1)
        assertThat(m.nzcv()).isEqualTo(C);
    }

    @Test
    void logicalImmediatesAllOnes() {
        Machine m = new Machine(Snippets.LOGICAL_IMM).x(0, -1L).run();
        assertThat(m.x(2)).isEqualTo(0x5555555555555555L);
        assertThat(m.x(3)).isEqualTo(0xFFFFFFFFL);
        assertThat(m.x(4)).isEqualTo(0x0000FFFF0000FFFFL);
        assertThat(m.x(5)).isEqualTo(0x8000000000000000L);
        assertThat(m.nzcv()).isEqualTo(N);
    }

    @Test
    void logicalImmediatesSmallValue() {
        Machine m = new Machine(Snippets.LOGICAL_IMM).x(0, 0x1234).run();
        assertThat(m.x(2)).isEqualTo(0x1014);
        assertThat(m.x(3)).isEqualTo(0xFF34);
        assertThat(m.x(4)).isEqualTo(0xFFFF0000FFFF1234L);
        assertThat(m.x(5)).isZero();
        assertThat(m.nzcv()).isEqualTo(Z);
    }

    @Test
    void logicalShiftedRegisters() {
        Machine m = new Machine(Snippets.LOGICAL_REG).x(0, 0xF0F0).x(1, 0xFF00);
        m.s.setNzcv(false, false, true, true);
        m.run();
        assertThat(m.x(2)).isEqualTo(0x00F0);
        assertThat(m.x(3)).isEqualTo(0xFFFFFFFFFFF0FFFFL);
        assertThat(m.x(4)).isEqualTo(0xFFFFF00FL);
        assertThat(m.x(5)).isZero();
        assertThat(m.nzcv()).as("BICS clears C and V").isEqualTo(Z);
        assertThat(m.x(6)).isEqualTo(0xF0);
    }

    @Test
    void shiftsImmediateAndByRegisterModuloWidth() {
        Machine m = new Machine(Snippets.SHIFTS).x(0, 0x80000000000000F1L).x(1, 66).run();
        assertThat(m.x(2)).isEqualTo(0xF10);
        assertThat(m.x(3)).isEqualTo(0x8);
        assertThat(m.x(4)).isEqualTo(0xFFFFFFFFFFFFFFF8L);
        assertThat(m.x(5)).isEqualTo(0xF180000000000000L);
        assertThat(m.x(6)).isEqualTo(0x200000000000003CL);
        assertThat(m.x(7)).isEqualTo(0x3C);
        assertThat(m.x(9)).isEqualTo(0x80000000L);
    }

    @Test
    void bitfieldMovesAndExtends() {
        Machine m = new Machine(Snippets.BITFIELD).x(0, 0x0123456789ABCDEFL).x(1, 0xFEDCBA9876543210L)
                .x(4, 0).x(5, 0x1111111111111111L).run();
        assertThat(m.x(2)).isEqualTo(0xBCD);
        assertThat(m.x(3)).isEqualTo(0xFFFFFFFFFFFFFFDEL);
        assertThat(m.x(4)).isEqualTo(0xEF0000);
        assertThat(m.x(5)).isEqualTo(0x1111111111111101L);
        assertThat(m.x(6)).isEqualTo(0xFFFFFFFFFFFFFFEFL);
        assertThat(m.x(7)).isEqualTo(0xFFFFCDEFL);
        assertThat(m.x(9)).isEqualTo(0xFFFFFFFF89ABCDEFL);
        assertThat(m.x(10)).isEqualTo(0xEF);
        assertThat(m.x(11)).isEqualTo(0xCDEFFEDCBA987654L);
        assertThat(m.x(12)).isEqualTo(0xF0000000L);
    }

    @Test
    void moveWide() {
        Machine m = new Machine(Snippets.MOVE_WIDE).x(4, -1).run();
        assertThat(m.x(2)).isEqualTo(0x1234000000000000L);
        assertThat(m.x(3)).isEqualTo(-1L);
        assertThat(m.x(4)).isEqualTo(0xFFFFFFFFL);
        assertThat(m.x(5)).isEqualTo(0xBEEFFFFFL);
        assertThat(m.x(6)).isEqualTo(0xFFFFFFFEL);
    }

    @Test
    void multiplyAndDivide() {
        Machine m = new Machine(Snippets.MULDIV).x(0, -7).x(1, 3).run();
        assertThat(m.x(2)).isEqualTo(-21);
        assertThat(m.x(3)).isEqualTo(-28);
        assertThat(m.x(4)).isEqualTo(14);
        assertThat(m.x(5)).isEqualTo(-21);
        assertThat(m.x(6)).isEqualTo(0x2FFFFFFEBL);
        assertThat(m.x(7)).isEqualTo(-1);
        assertThat(m.x(9)).isEqualTo(2);
        assertThat(m.x(10)).isEqualTo(0x5555555555555553L);
        assertThat(m.x(11)).isEqualTo(-2);
        assertThat(m.x(12)).isEqualTo(0xFFFFFFFEL);
    }

    @Test
    void divisionByZeroIsZeroAndMinOverMinusOneWraps() {
        Machine m = new Machine(Snippets.DIV_EDGE).x(0, 100).x(1, 0x8000000080000000L).x(5, -1).run();
        assertThat(m.x(2)).isZero();
        assertThat(m.x(3)).isZero();
        assertThat(m.x(4)).isEqualTo(0x7FFFFFFF80000000L);
        assertThat(m.x(6)).isEqualTo(0x80000000L);
    }

    @Test
    void conditionalSelectWhenEqual() {
        Machine m = new Machine(Snippets.CONDSEL).x(0, 5).x(1, 5).run();
        assertThat(new long[] {m.x(2), m.x(3), m.x(4), m.x(5), m.x(6), m.x(7), m.x(9)})
                .containsExactly(5, 5, 5, 5, 0, 0, 1);
        assertThat(m.nzcv()).isEqualTo(Z);
    }

    @Test
    void conditionalSelectWhenGreater() {
        Machine m = new Machine(Snippets.CONDSEL).x(0, 7).x(1, 5).run();
        assertThat(new long[] {m.x(2), m.x(3), m.x(4), m.x(5), m.x(6), m.x(7), m.x(9)})
                .containsExactly(7, 6, 0xFFFFFFFFFFFFFFFAL, -5, 1, -1, 0);
        assertThat(m.nzcv()).as("CCMP 7 vs 5 sets C only").isEqualTo(C);
    }

    @Test
    void countReverseOneSource() {
        Machine m = new Machine(Snippets.ONESRC).x(0, 0xF0).x(1, 0xFFFFFFFFFFFF0000L).run();
        assertThat(m.x(2)).isEqualTo(56);
        assertThat(m.x(3)).isEqualTo(55);
        assertThat(m.x(4)).isEqualTo(0x0F00000000000000L);
        assertThat(m.x(5)).isEqualTo(0xF000000000000000L);
        assertThat(m.x(6)).isEqualTo(0xF000);
        assertThat(m.x(7)).isEqualTo(0xF0000000L);
        assertThat(m.x(9)).isEqualTo(24);
        assertThat(m.x(10)).isEqualTo(0xF0000000L);
        assertThat(m.x(11)).isEqualTo(15);
    }

    private static Machine withData(int[] code) {
        Machine m = new Machine(code);
        for (int i = 0; i < 8; i++) {
            m.mm.store64(Machine.DATA + 8L * i, 0x1111111111111111L * (i + 1));
        }
        m.mm.store64(Machine.DATA + 64, 0x00000080FFFFFFF6L);
        return m;
    }

    @Test
    void loadAddressingModes() {
        Machine m = withData(Snippets.LDST_MODES).x(0, Machine.DATA + 16).x(1, Machine.DATA + 64).x(12, 0xFFFFFFFFL)
                .x(14, 2).run();
        assertThat(m.x(2)).isEqualTo(0x4444444444444444L);
        assertThat(m.x(3)).isEqualTo(0x2222222222222222L);
        assertThat(m.x(4)).isEqualTo(0x5555555555555555L);
        assertThat(m.x(5)).isEqualTo(0x5555555555555555L);
        assertThat(m.x(0)).as("pre-index +16 then post-index -8").isEqualTo(Machine.DATA + 24);
        assertThat(m.x(6)).isEqualTo(-10);
        assertThat(m.x(7)).isEqualTo(0xFFFFFFF6L);
        assertThat(m.x(9)).isEqualTo(-10);
        assertThat(m.x(10)).isEqualTo(0xFF);
        assertThat(m.x(11)).as("[x1, w12, sxtw #3] with w12 = -1").isEqualTo(0x8888888888888888L);
        assertThat(m.x(13)).isEqualTo(0x80);
    }

    @Test
    void storeSizesAndUnalignedStore() {
        Machine m = new Machine(Snippets.STORE_MODES).x(0, 0x1122334455667788L).x(1, Machine.DATA + 32).run();
        assertThat(m.x(1)).isEqualTo(Machine.DATA + 16);
        assertThat(m.mm.load64(Machine.DATA + 16)).isEqualTo(0x1122778888667788L);
        assertThat(m.mm.load32(Machine.DATA + 24)).isEqualTo(0x55667788);
        assertThat(m.mm.load64(Machine.DATA + 33)).isEqualTo(0x1122334455667788L);
    }

    @Test
    void pairsWithWritebackAndSignedWordPairs() {
        Machine m = new Machine(Snippets.PAIRS).x(0, 0xFFFFFFFF80000000L).x(1, 2).run();
        assertThat(m.x(2)).isEqualTo(0xFFFFFFFF80000000L);
        assertThat(m.x(3)).isEqualTo(2);
        assertThat(m.x(4)).isEqualTo(0xFFFFFFFF80000000L);
        assertThat(m.x(5)).isEqualTo(-1);
        assertThat(m.x(6)).isEqualTo(2);
        assertThat(m.x(7)).isEqualTo(0x80000000L);
        assertThat(m.x(9)).isEqualTo(0xFFFFFFFF80000000L);
        assertThat(m.x(10)).isEqualTo(2);
        assertThat(m.s.sp()).isEqualTo(Machine.STACK_TOP);
    }

    @Test
    void pcRelativeLiteralLoads() {
        Machine m = new Machine(Snippets.LITERAL).run();
        assertThat(m.x(2)).isEqualTo(0x80000000FFFFFFFEL);
        assertThat(m.x(3)).isEqualTo(0xFFFFFFFEL);
        assertThat(m.x(4)).isEqualTo(-2);
    }

    @Test
    void exclusivePairSucceedsOnceThenNeedsANewLoad() {
        Machine m = new Machine(Snippets.EXCLUSIVE).x(0, Machine.DATA);
        m.mm.store64(Machine.DATA, 41);
        m.run();
        assertThat(m.x(2)).isEqualTo(42);
        assertThat(m.x(3)).as("first STXR succeeds").isZero();
        assertThat(m.x(4)).as("second STXR has no reservation").isEqualTo(1);
        assertThat(m.x(5)).isEqualTo(42);
        assertThat(m.x(6)).isZero();
        assertThat(m.mm.load64(Machine.DATA)).isEqualTo(42);
    }

    @Test
    void storeExclusiveFailsWhenMemoryChangedSinceTheLoad() {
        int[] ldxrOnly = {Snippets.EXCLUSIVE[0]};
        int[] stxrOnly = {Snippets.EXCLUSIVE[2]};
        Machine m = new Machine(ldxrOnly, Prot.READ | Prot.WRITE | Prot.EXEC).x(0, Machine.DATA);
        m.run();
        m.mm.store64(Machine.DATA, 1000); // another writer between LDXR and STXR
        m.mm.store32(Machine.CODE, stxrOnly[0]);
        m.cpu.codeCache().invalidate();
        m.s.setPc(Machine.CODE);
        m.x(2, 5);
        m.cpu.run(m.s, 1);
        assertThat(m.x(3)).isEqualTo(1);
        assertThat(m.mm.load64(Machine.DATA)).isEqualTo(1000);
    }

    @Test
    void compareAndSwapAndAtomicArithmetic() {
        Machine m = new Machine(Snippets.CAS_OPS).x(0, Machine.DATA).x(1, 100).x(4, 5).x(6, 200).x(9, -1).x(11, 50);
        m.mm.store64(Machine.DATA, 7);
        m.run();
        assertThat(m.x(2)).as("CAS old value (matched)").isEqualTo(7);
        assertThat(m.x(3)).as("CASAL old value (no match)").isEqualTo(100);
        assertThat(m.x(5)).isEqualTo(100);
        assertThat(m.x(7)).isEqualTo(105);
        assertThat(m.x(10)).isEqualTo(200);
        assertThat(m.x(12)).isEqualTo(200);
        assertThat(m.mm.load64(Machine.DATA)).isEqualTo(50);
    }

    @Test
    void atomicBitOperationsAndByteAdd() {
        Machine m = new Machine(Snippets.LSE_BITS).x(0, Machine.DATA).x(1, 0x0F00).x(3, 0x000F).x(5, 0xFFFF)
                .x(7, 0x20);
        m.mm.store64(Machine.DATA, 0xFF00);
        m.run();
        assertThat(m.x(2)).isEqualTo(0xFF00);
        assertThat(m.x(4)).isEqualTo(0xF000);
        assertThat(m.x(6)).isEqualTo(0xF00F);
        assertThat(m.x(9)).isEqualTo(0xF0);
        assertThat(m.x(10)).isEqualTo(0x0F10);
        assertThat(m.mm.load64(Machine.DATA)).isEqualTo(0x0F00);
    }

    @Test
    void branchesLinkAndTestBits() {
        Machine m = new Machine(Snippets.BRANCHES).x(0, -2).x(1, 0xFFFFFFFF00000000L).run();
        assertThat(m.x(2)).isEqualTo(1);
        assertThat(m.x(3)).isEqualTo(Machine.CODE + 4);
        assertThat(m.x(4)).isZero();
        assertThat(m.x(5)).isZero();
        assertThat(m.x(6)).isZero();
        assertThat(m.s.pc()).isEqualTo(m.end());
    }

    @Test
    void blrThroughX30UsesTheOldValue() {
        Machine m = new Machine(new int[] {Snippets.BLR_X30[0], Snippets.MOV_ONE[0]}).x(30, Machine.CODE + 4).run();
        assertThat(m.x(2)).isEqualTo(1);
        assertThat(m.x(30)).isEqualTo(Machine.CODE + 4);
    }

    @Test
    void branchToMisalignedAddressRaisesSigbus() {
        Machine m = new Machine(Snippets.BR_MISALIGNED).x(0, Machine.CODE + 2);
        assertThatThrownBy(() -> m.cpu.run(m.s, 1)).isInstanceOfSatisfying(GuestSignal.class, e -> {
            assertThat(e.signal()).isEqualTo(GuestSignal.SIGBUS);
            assertThat(e.pc()).isEqualTo(Machine.CODE);
            assertThat(e.getMessage()).contains("0x10002");
        });
        assertThat(m.s.pc()).isEqualTo(Machine.CODE);
    }

    @Test
    void systemRegistersTpidrNzcvFpcrDczid() {
        Machine m = new Machine(Snippets.SYSREGS).x(0, 0x03C00000L).x(1, 0x90000000L).run();
        assertThat(m.x(2)).isEqualTo(0x03C00000L);
        assertThat(m.s.tpidrEl0()).isEqualTo(0x03C00000L);
        assertThat(m.x(3)).isEqualTo(0x90000000L);
        assertThat(m.x(4)).as("B.VS taken after MSR NZCV").isZero();
        assertThat(m.x(5)).isEqualTo(0x03C00000L);
        assertThat(m.s.fpcr()).isEqualTo(0x03C00000);
        assertThat(m.x(6)).isEqualTo(Interpreter.DCZID_EL0);
        assertThat(m.nzcv()).isEqualTo(N | V);
    }

    @Test
    void svcEntersTheKernelWithPcAfterTheCall() {
        Machine m = new Machine(Snippets.SVC);
        assertThat(m.cpu.run(m.s, 100)).isEqualTo(Interpreter.Stop.SUPERVISOR_CALL);
        assertThat(m.syscalls).containsExactly(64L);
        assertThat(m.s.pc()).isEqualTo(Machine.CODE + 8);
        assertThat(m.x(9)).isZero();
        assertThat(m.cpu.instructionsRetired()).isEqualTo(2);
        m.run();
        assertThat(m.x(9)).isEqualTo(1);
    }

    @Test
    void unknownEncodingRaisesSigillWithAddressAndEncodingAndLeavesStateAtTheInstruction() {
        Machine m = new Machine(Snippets.UNDEF);
        assertThatThrownBy(() -> m.cpu.run(m.s, 100)).isInstanceOfSatisfying(GuestSignal.class, e -> {
            assertThat(e.signal()).isEqualTo(GuestSignal.SIGILL);
            assertThat(e.pc()).isEqualTo(Machine.CODE + 4);
            assertThat(e.encoding()).isZero();
            assertThat(e.getMessage()).contains("SIGILL", "0x10004", "0x00000000");
        });
        assertThat(m.x(2)).isEqualTo(1);
        assertThat(m.s.pc()).isEqualTo(Machine.CODE + 4);
        assertThat(m.cpu.instructionsRetired()).isEqualTo(1);
    }

    @Test
    void sveEncodingIsNotSkipped() {
        int ptrueB = 0x2518e3e0; // ptrue p0.b
        Machine m = new Machine(new int[] {ptrueB});
        assertThatThrownBy(() -> m.cpu.run(m.s, 1)).isInstanceOf(GuestSignal.class)
                .hasMessageContaining("0x2518e3e0").hasMessageContaining("SVE");
    }

    @Test
    void pairLoadFaultingOnSecondPageWritesNoRegister() {
        Machine m = new Machine(Snippets.FAULT_LDP).x(0, Machine.DATA + 4096 - 8).x(2, 0xAA).x(3, 0xBB);
        assertThatThrownBy(() -> m.cpu.run(m.s, 1)).isInstanceOfSatisfying(SegmentationFault.class, e -> {
            assertThat(e.address()).isEqualTo(Machine.DATA + 4096);
            assertThat(e.code()).isEqualTo(SegmentationFault.SEGV_MAPERR);
        });
        assertThat(m.x(2)).isEqualTo(0xAA);
        assertThat(m.x(3)).isEqualTo(0xBB);
        assertThat(m.s.pc()).isEqualTo(Machine.CODE);
    }

    @Test
    void faultingPreIndexLoadDoesNotWriteBack() {
        Machine m = new Machine(Snippets.FAULT_PRE).x(0, Machine.DATA + 4096 - 8);
        assertThatThrownBy(() -> m.cpu.run(m.s, 1)).isInstanceOf(SegmentationFault.class);
        assertThat(m.x(0)).isEqualTo(Machine.DATA + 4096 - 8);
    }

    @Test
    void storeToReadOnlyPageIsAccessError() {
        Machine m = new Machine(Snippets.FAULT_STORE).x(0, Machine.CODE).x(1, 5);
        assertThatThrownBy(() -> m.cpu.run(m.s, 1)).isInstanceOfSatisfying(SegmentationFault.class, e -> {
            assertThat(e.code()).isEqualTo(SegmentationFault.SEGV_ACCERR);
            assertThat(e.isWrite()).isTrue();
        });
    }

    @Test
    void fetchFromNonExecutablePageIsSegv() {
        Machine m = new Machine(Snippets.MOV_ONE);
        m.s.setPc(Machine.DATA);
        assertThatThrownBy(() -> m.cpu.run(m.s, 1)).isInstanceOfSatisfying(SegmentationFault.class, e -> {
            assertThat(e.address()).isEqualTo(Machine.DATA);
            assertThat(e.code()).isEqualTo(SegmentationFault.SEGV_ACCERR);
        }).hasMessageContaining("non-executable");
    }

    @Test
    void codeOnWritablePageIsNeverServedStale() {
        Machine m = new Machine(Snippets.MOV_ONE, Prot.READ | Prot.WRITE | Prot.EXEC).run();
        assertThat(m.x(2)).isEqualTo(1);
        m.mm.store32(Machine.CODE, Snippets.MOV_TWO[0]);
        m.s.setPc(Machine.CODE);
        m.run();
        assertThat(m.x(2)).isEqualTo(2);
    }

    @Test
    void cachedCodeIsDecodedAgainAfterInvalidation() {
        Machine m = new Machine(Snippets.MOV_ONE).run();
        assertThat(m.cpu.codeCache().cachedBlocks()).isEqualTo(1);
        m.mm.mprotect(Machine.CODE, 4096, Prot.READ | Prot.WRITE);
        m.mm.store32(Machine.CODE, Snippets.MOV_TWO[0]);
        m.mm.mprotect(Machine.CODE, 4096, Prot.READ | Prot.EXEC);
        m.cpu.codeCache().invalidate(); // what the syscall layer does after mprotect
        m.s.setPc(Machine.CODE);
        m.run();
        assertThat(m.x(2)).isEqualTo(2);
    }

    @Test
    void instructionCacheInvalidateMakesWrittenCodeVisible() {
        // Writes "mov x2, #2" over the instruction after the IC IVAU sequence, on a RWX page.
        int[] code = new int[Snippets.IC_IVAU.length + 1];
        System.arraycopy(Snippets.IC_IVAU, 0, code, 0, Snippets.IC_IVAU.length);
        code[code.length - 1] = Snippets.MOV_ONE[0];
        Machine m = new Machine(code, Prot.READ | Prot.WRITE | Prot.EXEC).x(0, Machine.CODE + 4L * (code.length - 1))
                .x(1, Snippets.MOV_TWO[0] & 0xFFFFFFFFL).run();
        assertThat(m.x(2)).isEqualTo(2);
    }

    @Test
    void simdStrlenIdioms() {
        Machine m = new Machine(Snippets.SIMD_STRLEN).x(0, Machine.DATA);
        m.mm.write(Machine.DATA, "hello\0xxxxxxxxxx".getBytes());
        m.run();
        assertThat(m.x(2)).isEqualTo(0xF00000L);
        assertThat(m.x(3)).isEqualTo(0xFF0000L);
    }

    @Test
    void simdMovesAndReductions() {
        Machine m = new Machine(Snippets.SIMD_MOVES).x(0, 0x11223344L).run();
        assertThat(m.s.vLow(0)).isEqualTo(0x4141414141414141L);
        assertThat(m.s.vHigh(0)).isEqualTo(0x4141414141414141L);
        assertThat(m.s.vLow(1)).isEqualTo(0x1122334411223344L);
        assertThat(m.s.vHigh(1)).isEqualTo(0x1122334411223344L);
        assertThat(m.x(2)).isEqualTo(0x11223344L);
        assertThat(m.s.vLow(3)).isEqualTo(0x2244668822446688L);
        assertThat(m.s.vHigh(3)).isEqualTo(0x2244668822446688L);
        assertThat(m.s.vLow(4)).isEqualTo(0x4141414141414141L);
        assertThat(m.s.vHigh(4)).isEqualTo(0x1122334411223344L);
        assertThat(m.s.vLow(6)).isEqualTo(0x02020402L);
        assertThat(m.x(3)).isEqualTo(10);
        assertThat(m.x(4)).isEqualTo(0x11223344L);
    }

    @Test
    void simdRegisterPairsAndScalarSizes() {
        Machine m = new Machine(Snippets.SIMD_PAIRS).x(0, Machine.DATA);
        m.s.setV(0, 1, 2);
        m.s.setV(1, 3, 4);
        m.s.setV(4, -1, -1);
        m.run();
        assertThat(m.s.vLow(2)).isEqualTo(1);
        assertThat(m.s.vHigh(2)).isEqualTo(2);
        assertThat(m.s.vLow(3)).isEqualTo(3);
        assertThat(m.s.vHigh(3)).isEqualTo(4);
        assertThat(m.s.vLow(4)).isEqualTo(3);
        assertThat(m.s.vHigh(4)).as("scalar load zeroes the upper half").isZero();
        assertThat(m.x(2)).isEqualTo(3);
    }

    @Test
    void scalarFloatingPoint() {
        Machine m = new Machine(Snippets.FP).x(0, 3).run();
        assertThat(Double.longBitsToDouble(m.s.vLow(3))).isEqualTo(6.75);
        assertThat(m.x(2)).isEqualTo(6);
        assertThat(m.x(3)).isEqualTo(1);
        assertThat(m.x(4)).as("0/0 gives the default NaN (positive quiet), not x86's negative one")
                .isEqualTo(0x7FC00000L);
    }

    @Test
    void stateRoundTripsThroughCpuStateBetweenRuns() {
        Machine m = new Machine(Snippets.MULDIV).x(0, -7).x(1, 3);
        m.cpu.run(m.s, 4);
        CpuState saved = CpuState.fromBytes(m.s.toBytes());
        Machine other = new Machine(Snippets.MULDIV);
        other.s.copyFrom(saved);
        other.run();
        m.run();
        assertThat(other.s).isEqualTo(m.s);
    }

    @Test
    void dataPageIsUsable() {
        Machine m = new Machine(Snippets.MOV_ONE);
        m.mm.mmap(0x40000, 4096, Prot.READ, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
        assertThat(m.mm.load64(0x40000)).isZero();
    }
}
