package dev.pagehop.cli;

import dev.pagehop.mm.Granule;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.MmConfig;
import dev.pagehop.mm.Pagemap;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.Pte;
import dev.pagehop.mm.VmFlags;
import dev.pagehop.mm.VmaInfo;
import dev.pagehop.mm.WalkStep;
import dev.pagehop.uffd.PageRegion;
import dev.pagehop.uffd.PmScanArg;
import dev.pagehop.uffd.Uffd;
import dev.pagehop.uffd.Userfaultfd;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The README's main job: a short local demonstration of the emulated arm64 memory manager. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Spawn an emulated arm64 address space, map and write memory, and show its page tables and pagemap.")
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--granule", defaultValue = "K4", description = "Translation granule: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    Granule granule;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (MemoryManager mm = MemoryManager.create(MmConfig.arm64(granule))) {
            long p = mm.pageSize();
            out.printf("pagehop demo: emulated arm64 Linux mm, %s granule (%d-byte pages, %d levels, PMD block %d MiB)%n",
                    granule, p, granule.levels(), granule.pmdSize() >> 20);
            long a = mm.mmap(0, 4 * p, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS);
            out.printf("%nmmap(NULL, %d, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) = 0x%x%n", 4 * p, a);
            mm.store64(a, 0x70616765686f70L);
            out.printf("store64(0x%x, 0x70616765686f70) -> write fault allocates a page%n", a);
            out.printf("load64(0x%x)                    -> read fault maps the shared zero page, value %d%n",
                    a + p, mm.load64(a + p));
            mm.mprotect(a + 2 * p, p, Prot.READ);
            out.printf("mprotect(0x%x, %d, PROT_READ)   -> VMA split%n", a + 2 * p, p);

            out.printf("%n/proc/self/maps:%n");
            for (VmaInfo v : mm.vmas()) {
                out.printf("  %012x-%012x %s%s%s  [%s]%n", v.start(), v.end(),
                        (v.prot() & Prot.READ) != 0 ? "r" : "-", (v.prot() & Prot.WRITE) != 0 ? "w" : "-",
                        (v.prot() & Prot.EXEC) != 0 ? "x" : "-", VmFlags.mnemonics(v.vmFlags()));
            }
            for (long va : new long[] {a, a + p}) {
                out.printf("%nTable walk for VA 0x%x:%n", va);
                for (WalkStep s : mm.walk(va)) {
                    out.printf("  L%d table@0x%x [%4d] = 0x%016x  %s%n", s.level(), s.tablePa(), s.index(),
                            s.descriptor(), Pte.describe(s.descriptor(), s.level(), granule.pageShift()));
                }
            }
            printPagemap(out, mm, a, 4);

            out.printf("%nDirty tracking with async uffd-wp (what CRIU pre-dump uses on arm64):%n");
            try (Userfaultfd uffd = mm.userfaultfd(Uffd.USER_MODE_ONLY)) {
                uffd.api(Uffd.FEATURE_WP_ASYNC | Uffd.FEATURE_WP_UNPOPULATED);
                uffd.register(a, 2 * p, Uffd.REGISTER_MODE_WP);
                uffd.writeprotect(a, 2 * p, Uffd.WRITEPROTECT_MODE_WP);
                out.printf("  UFFDIO_REGISTER(WP) + UFFDIO_WRITEPROTECT(0x%x, %d): pte of page 0 now 0x%016x%n", a, 2 * p,
                        mm.rawPte(a));
                out.printf("    %s%n", Pte.describe(mm.rawPte(a), 3, granule.pageShift()));
                mm.store8(a + p + 1, 1);
                out.printf("  store8(0x%x): async trap cleared uffd-wp in place; pte now 0x%016x%n", a + p + 1,
                        mm.rawPte(a + p));
                PmScanArg scan = new PmScanArg(a, a + 2 * p).withVec(4)
                        .flags(Uffd.PM_SCAN_WP_MATCHING | Uffd.PM_SCAN_CHECK_WPASYNC)
                        .masks(Uffd.PAGE_IS_WRITTEN, 0, 0, Uffd.PAGE_IS_WRITTEN);
                int n = mm.pagemapScan(scan);
                out.printf("  PAGEMAP_SCAN(WP_MATCHING, mask=return=WRITTEN) -> %d region(s):", n);
                for (int i = 0; i < n; i++) {
                    PageRegion r = scan.vec[i];
                    out.printf(" [0x%x, 0x%x)", r.start(), r.end());
                }
                out.printf(" (and re-armed them)%n");
                printPagemap(out, mm, a, 2);
            }
        }
        return 0;
    }

    private static void printPagemap(PrintWriter out, MemoryManager mm, long a, int pages) {
        out.printf("%nPagemap (/proc/self/pagemap):%n");
        for (int i = 0; i < pages; i++) {
            long va = a + i * mm.pageSize();
            long e = mm.pagemapEntry(va);
            out.printf("  0x%x  0x%016x  %s%n", va, e, decodePagemap(e));
        }
    }

    private static String decodePagemap(long e) {
        if (e == 0) {
            return "not present";
        }
        StringBuilder sb = new StringBuilder();
        if ((e & Pagemap.PM_PRESENT) != 0) {
            sb.append("PRESENT pfn=0x").append(Long.toHexString(e & Pagemap.PM_PFRAME_MASK));
        }
        if ((e & Pagemap.PM_SWAP) != 0) {
            sb.append("SWAP");
        }
        if ((e & Pagemap.PM_MMAP_EXCLUSIVE) != 0) {
            sb.append(" EXCLUSIVE");
        }
        if ((e & Pagemap.PM_FILE) != 0) {
            sb.append(" FILE");
        }
        if ((e & Pagemap.PM_SOFT_DIRTY) != 0) {
            sb.append(" SOFT_DIRTY");
        }
        if ((e & Pagemap.PM_UFFD_WP) != 0) {
            sb.append(" UFFD_WP");
        }
        return sb.toString();
    }
}
