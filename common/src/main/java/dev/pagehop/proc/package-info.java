/**
 * The emulated arm64 process: threads with arm64 register state stepping a workload through the
 * MMU, freeze and thaw at step boundaries, signals, and the non-memory image that moves a process
 * to another address space.
 *
 * <h2>Using it</h2>
 * <pre>{@code
 * // source
 * MemoryManager mm = MemoryManager.create(MmConfig.arm64(Granule.K4));
 * EmulatedProcess p = EmulatedProcess.spawn(100, mm, WorkloadSpec.parse("zipf:hotPages=64@7"), 4,
 *         ProcessOptions.defaults());
 * p.start();
 * ...pre-copy rounds; p.setThrottlePercent(30) to slow it down (auto-converge)...
 * FreezeResult f = p.freeze();              // every thread stopped; f.freezeNanos() is the freezing time
 * byte[] image = p.saveImage().encode();    // layout, brk, registers, workload position
 * ...final dirty pages...; p.kill() after the target resumed, or p.thaw() if the migration failed
 *
 * // target
 * ProcessImage img = ProcessImage.decode(image);
 * MemoryManager mm2 = MemoryManager.create(img.mmConfig());
 * AddressSpaceLayout.rebuild(img, mm2);     // VMAs (MAP_FIXED), memfds, brk
 * ...fill memory...
 * EmulatedProcess q = EmulatedProcess.restore(img, mm2, ProcessOptions.defaults()); // FROZEN
 * q.thaw();                                 // end of downtime
 * }</pre>
 *
 * <h2>States</h2>
 * <pre>
 *  process                                          thread
 *
 *   NEW ──start──► RUNNING ──freeze──► FREEZING        NEW ──► RUNNING ◄──────► FROZEN
 *    │              ▲  │                  │ all              │   ▲   at a step boundary
 *    │ restore      │  │ SIGSEGV,         │ stopped          ▼   │ woken (waits for thaw
 *    └──► FROZEN ◄──┼──┼──────────────────┘             PARKED_IN_FAULT  if frozen meanwhile)
 *          │  thaw  │  ▼
 *          └────────┘ STOPPED (reason kept)            any ──► EXITED
 *   kill: any non-EXITED state ──► EXITED
 * </pre>
 *
 * <h2>Freeze protocol</h2>
 * {@link dev.pagehop.proc.EmulatedProcess#freeze()} raises a flag every thread reads at each step
 * boundary, unparks paced threads, and waits until each thread is FROZEN (parked at a boundary),
 * PARKED_IN_FAULT (asleep in a userfault, reported by the kernel through
 * {@link dev.pagehop.uffd.FaultWait}) or EXITED. The freezer itself is the thread that waits; the
 * stepping threads are never interrupted mid-step.
 *
 * <p>A fault resolved while the process is frozen: the kernel retries the faulting access under
 * its own lock (it reports the wake-up from inside that lock, where the process model must not
 * wait), so that one access completes; the thread then stays PARKED_IN_FAULT and holds at its
 * next gate, before the next effect and before its registers or step count change, until thaw.
 * The image taken meanwhile still lists the faulting effect as pending, so the target replays it
 * (the same store of the same value) and ends up identical either way. A direct-memory workload
 * (the A64 interpreter) instead holds with its registers already past the instruction whose
 * access landed, so the image resumes after it: a read-modify-write is never repeated. To keep even that one
 * access from landing while frozen, whoever resolves faults (a uffd-wp monitor, a lazy pager)
 * should not wake threads of a frozen process.
 *
 * <h2>Threads that come and wait</h2>
 * A direct-memory workload may add threads while it runs ({@link
 * dev.pagehop.workload.StepContext#spawnThread}, the A64 kernel's clone): the new thread takes
 * the next index and tid pid + index, runs at once, or, if the process is freezing or frozen,
 * starts NEW and freezes at its first boundary (a freeze in progress waits for it). A thread
 * with nothing to do (a futex wait, an exited guest thread) asks to idle
 * ({@link dev.pagehop.workload.StepContext#idle}): it sleeps at its step boundary until another
 * thread wakes it ({@link dev.pagehop.workload.StepContext#wakeThread}) or the process freezes,
 * so a freeze finds it FROZEN there and the image lists it like any other thread; its next step
 * looks again (in memory) whether it may run. The image carries every thread in index order.
 * A thread that must wait mid-step for a lock another thread holds (which may be asleep in a
 * userfault with it) counts as PARKED_IN_FAULT while it waits
 * ({@link dev.pagehop.workload.StepContext#lockWaitBegins}); if it gets the lock while the
 * process is frozen it holds at once, before changing anything, until thaw.
 *
 * <h2>Steps, faults and the image</h2>
 * A step is loads, then buffered effects (stores, mmap/mprotect/mremap/munmap/madvise), see
 * {@link dev.pagehop.workload.StepContext}. A thread frozen in a fault during the loads is saved
 * with its registers from before the step, and redoes the step on the target; one frozen while
 * applying the effects is saved with its registers after the step plus the effects not yet
 * applied ({@link dev.pagehop.proc.ProcessImage.ThreadImage#pending()}), which the target applies
 * first. Either way each step takes effect exactly once.
 *
 * <h2>Numbers</h2>
 * {@link dev.pagehop.proc.EmulatedProcess#stats()} gives the workload's progress (steps, carried
 * across a restore) and its bytes and pages written, for achieved rates over any interval;
 * {@link dev.pagehop.proc.EmulatedProcess#faultStats()} the userfault count and blocked time
 * (post-copy blocktime); {@link dev.pagehop.proc.FreezeResult#freezeNanos()} the freezing time.
 *
 * <h2>Signals</h2>
 * A {@link dev.pagehop.mm.SegmentationFault} in any thread stops the whole process (SIGSEGV and
 * SIGBUS end the thread group, as on Linux): the state becomes STOPPED, the other threads leave at
 * their next boundary, and {@link dev.pagehop.proc.EmulatedProcess#stopReason()} names the thread,
 * signal, si_code and address. The memory stays for inspection. This holds while FROZEN too:
 * the access of a fault resolved while frozen lands then (see above), and if it is fatal the
 * process goes from FROZEN to STOPPED.
 *
 * <h2>Checking a workload</h2>
 * {@link dev.pagehop.proc.EmulatedProcess#verify()} runs the workload's own check over memory of
 * a process that is not running. A frozen thread in the middle of a step (parked in a userfault
 * while applying its effects, or restored with effects still to apply) leaves half a step in
 * memory, so the check refuses, naming the thread, until the process has thawed and finished it.
 */
package dev.pagehop.proc;
