package dev.pagehop.bench.report;

import dev.pagehop.mm.Errno;
import dev.pagehop.mm.ErrnoException;
import dev.pagehop.mm.MapFlags;
import dev.pagehop.mm.MemoryManager;
import dev.pagehop.mm.Prot;
import dev.pagehop.mm.VmaInfo;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.LongAdder;

/**
 * Lets the VMA-churn case run on an emulated kernel whose mremap still fails with ENOSYS: a
 * same-size {@code mremap(MAYMOVE|FIXED)} is replayed as mmap(MAP_FIXED) of the destination, a
 * copy of the contents, mprotect back to the source's protection and munmap of the source. The
 * layout and contents afterwards are what mremap would leave, and every tracker sees the same
 * sequence, so the comparison stays fair; what differs from a real move is that the destination
 * is a fresh VMA whose pages were written rather than moved page-table entries. The report says
 * how many moves were replayed. Once the kernel implements mremap this class never acts.
 */
final class MremapFallback {

    private MremapFallback() {
    }

    static MemoryManager wrap(MemoryManager mm, LongAdder replayed) {
        return (MemoryManager) Proxy.newProxyInstance(MemoryManager.class.getClassLoader(),
                new Class<?>[] {MemoryManager.class}, new Handler(mm, replayed));
    }

    private record Handler(MemoryManager mm, LongAdder replayed) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(mm, args);
            } catch (InvocationTargetException e) {
                if (method.getName().equals("mremap") && e.getCause() instanceof ErrnoException ee
                        && ee.errno() == Errno.ENOSYS && (long) args[1] == (long) args[2]
                        && ((int) args[3] & MapFlags.MREMAP_FIXED) != 0) {
                    replayed.increment();
                    return move(proxy, (long) args[0], (long) args[1], (long) args[4]);
                }
                throw e.getCause();
            }
        }

        /** Goes through {@code self} so the stores and mappings are recorded like the workload's own. */
        private long move(Object self, long from, long len, long to) {
            MemoryManager m = (MemoryManager) self;
            int prot = Prot.READ | Prot.WRITE;
            for (VmaInfo v : mm.vmas()) {
                if (from >= v.start() && from < v.end()) {
                    prot = v.prot();
                    break;
                }
            }
            byte[] data = new byte[(int) len];
            mm.peek(from, data, 0, data.length);
            m.mmap(to, len, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS | MapFlags.FIXED);
            m.write(to, data);
            if (prot != (Prot.READ | Prot.WRITE)) {
                m.mprotect(to, len, prot);
            }
            m.munmap(from, len);
            return to;
        }
    }
}
