# The C state of one i386 CPU and its memory.  Included textually by
# _core.pxd (uvloop style: declarations only, no code), so every .pxi of the
# core and any Cython code that cimports pvops.cpu._core sees the same struct.

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef enum:
    TLB_BITS = 10
    TLB_SIZE = 1 << TLB_BITS
    TLB_MASK = TLB_SIZE - 1
    TLB_INVALID = 1             # never equal to a page-aligned tag
    DC_BITS = 16
    DC_SIZE = 1 << DC_BITS
    DC_MASK = DC_SIZE - 1
    DC_INVALID = -1             # tag of an empty slot: as uint64 it never equals an address
    MAX_GATE_TABLES = 8
    GATE_STRIDE = 32

# Segment register numbers (the encoding of the sreg ModRM field).
cdef enum:
    ES = 0
    CS = 1
    SS = 2
    DS = 3
    FS = 4
    GS = 5
    SEG_NONE = 7

# Per-physical-page flags (one byte per page of guest memory).
cdef enum:
    PG_CODE = 1      # the decoded cache may hold instructions from this page
    PG_WATCH = 2     # writes call the Python watch hook
    PG_GATE = 4      # part of a gate table

# Handler status codes: 0 is the only fast one.
cdef enum:
    S_OK = 0
    S_FAULT = 1      # exception in exc_vec/exc_code; EIP goes back to cur_eip
    S_SOFTINT = 2    # int n/int3/into: deliver exc_vec with EIP = next
    S_GATE = 3       # executing a gate slot: exc_vec = table, exc_code = slot
    S_HALT = 4       # hlt retired
    S_IO = 5         # in/out on a hooked port (io_* fields)
    S_INT_HOOK = 6   # int n on a hooked vector
    S_PRIV = 7       # #GP(0) from a privileged instruction at CPL > 0 (gp_kind)
    S_WATCH = 8      # write to a watched page (watch_* fields); retry after hook
    S_REPEAT = 9     # a rep instruction did a chunk; not retired, run again
    S_BREAK = 10     # retired; leave the inner loop so events are rechecked
    S_TRIPLE = 11
    S_STOP = 12
    S_INTERCEPT = 13 # an intercept wants the instruction (icpt_kind); nothing done yet

# Sensitive-instruction kinds (system.pxi): what c_sens counts and what an
# intercept can ask for.  The last two only refine the intercept of a
# control-register write; such writes are counted as SK_MOV_CR.
cdef enum:
    SK_CLI = 0
    SK_STI
    SK_POPF
    SK_PUSHF
    SK_MOV_CR3      # writes to cr3
    SK_MOV_CR       # other control-register reads and writes (cr3 reads, smsw, lmsw)
    SK_INVLPG
    SK_PORT_IO      # in/out, and each element of ins/outs
    SK_RDTSC
    SK_HLT
    SK_DESCRIPTOR   # lgdt lidt lldt ltr sgdt sidt sldt str
    SK_CPUID
    SK_MSR          # rdmsr wrmsr
    SK_IRET
    SK_INT          # int n, int3, into
    SK_CLTS
    SK_WBINVD
    SK_MOV_DR
    SK_RDPMC
    SK_COUNTED      # the kinds above are counted
    SK_MOV_CR0 = SK_COUNTED
    SK_MOV_CR4
    SK_KINDS

cdef struct Seg:
    uint32_t base
    uint32_t limit      # byte granular, already scaled by G
    uint16_t sel
    uint8_t access      # descriptor byte 5: P DPL S type
    uint8_t flags       # descriptor byte 6 high nibble: G D/B L AVL
    uint8_t valid       # 0 for a null selector
    uint8_t rfast       # reads need no check (valid, readable, limit 4G)
    uint8_t wfast       # writes need no check (valid, writable, limit 4G)
    uint8_t pad

cdef struct TlbEntry:
    uint32_t rtag       # linear page if readable through this entry
    uint32_t wtag       # linear page if writable in place (dirty, not code/watched)
    uint32_t wperm      # linear page if writable at all (dirty): the slow path uses it
    uint32_t ppage      # physical page
    uint32_t glob       # global page (kept across cr3 writes)
    uint32_t pad
    uint8_t *host       # host address of the physical page, NULL if unbacked

cdef struct Insn
cdef struct CpuState
ctypedef int (*Handler)(CpuState *s, Insn *i) noexcept nogil

cdef struct Insn:
    Handler fn
    uint64_t tag        # physical address of the first byte, DC_INVALID if empty
    uint32_t disp
    uint32_t imm
    uint32_t amask      # 0xFFFF with a 0x67 prefix
    uint16_t imm2
    uint8_t len
    uint8_t base        # 8 = none (regs[8] is always 0)
    uint8_t index       # 8 = none
    uint8_t scale
    uint8_t reg         # ModRM reg field or register in the opcode
    uint8_t rm          # register operand of an R form
    uint8_t seg         # effective segment
    uint8_t osz         # 0 byte, 1 word, 2 dword
    uint8_t op          # sub-operation: ALU op, condition, shift kind
    uint8_t rep         # 0, 0xF2 or 0xF3

cdef struct GateTable:
    uint32_t base
    uint32_t nslots
    void **slots        # borrowed PyObject* (Machine keeps the list alive)
    uint8_t *compiled   # 1 if the slot is a CompiledSlot
    uint64_t *count

cdef struct CpuState:
    uint32_t regs[9]    # eax ecx edx ebx esp ebp esi edi, then a constant 0
    uint32_t eip
    uint32_t cur_eip    # start of the instruction being executed
    uint32_t eflags     # arithmetic bits are stale while lf_sb != 0
    # Lazy flags: result, carry-out vector, sign-bit number (0 = eager).
    uint32_t lf_res
    uint32_t lf_cvec
    uint32_t lf_sb
    uint32_t cr0, cr2, cr3, cr4
    uint32_t dr[8]
    Seg seg[6]
    Seg ldtr
    Seg tr
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit
    uint32_t cpl
    uint8_t *mem
    uint32_t mem_size
    uint32_t npages
    uint8_t *page_flags
    TlbEntry *tlb       # tlb_sup or tlb_user, by CPL
    TlbEntry tlb_sup[TLB_SIZE]
    TlbEntry tlb_user[TLB_SIZE]
    uint32_t fetch_lin  # linear page of the last fetch (TLB_INVALID if none)
    uint32_t fetch_phys
    Insn *dcache
    Insn scratch        # instructions that cross a page are decoded here
    # Run control.
    uint64_t icount     # retired instructions
    uint64_t stop_at    # the inner loop runs while icount < stop_at
    uint64_t idle       # instruction-times skipped by hlt (timer clock = icount + idle)
    uint64_t inhibit_end  # no interrupts while icount < inhibit_end (sti, mov ss)
    int halted
    int stop_req
    # Pending exception (S_FAULT, S_SOFTINT, nested faults during delivery).
    int exc_vec
    int exc_code
    int last_vec
    int last_code
    uint32_t last_eip
    # Pending host events.
    int gp_kind
    uint32_t io_port
    uint32_t io_size
    uint32_t io_value
    int io_in
    int io_string
    Insn *cur_insn     # the instruction that returned a non-zero status
    uint32_t watch_addr
    uint32_t watch_size
    uint32_t watch_value
    uint32_t watch_seq  # watched writes seen in this instruction
    uint32_t watch_ok   # watched writes already approved by the hook
    uint32_t watch_drop # bit k: the hook suppressed approved write k
    int watch_on        # 0 while the core itself writes (exception frames)
    uint32_t irq[8]     # pending external interrupts, one bit per vector
    int irq_any
    uint64_t timer_period
    uint64_t timer_next
    int timer_vector
    uint8_t port_hooked[8192]
    uint8_t int_hooked[32]
    int gp_hook
    int hlt_hook
    uint64_t msr_sysenter_cs, msr_sysenter_esp, msr_sysenter_eip
    GateTable gates[MAX_GATE_TABLES]
    int ngates
    # Counters (exposed by Machine.counters()).
    uint64_t c_exc[256]
    uint64_t c_tlb_flush
    uint64_t c_tlb_miss
    uint64_t c_walk
    uint64_t c_dc_inval
    uint64_t c_dc_decode
    uint64_t c_hook_int
    uint64_t c_hook_gp
    uint64_t c_hook_io
    uint64_t c_hook_watch
    uint64_t c_hook_hlt
    uint64_t c_hook_icpt
    # Sensitive instructions and intercepts (system.pxi, Machine.set_intercept).
    uint64_t c_sens[SK_KINDS]
    uint64_t c_icpt[SK_KINDS]
    uint64_t c_icpt_exc[256]
    uint8_t icpt[SK_KINDS]   # 1: the kind has an intercept hook
    uint8_t exc_icpt[32]     # bit per vector: the exception has an intercept hook
    int icpt_kind            # the kind of an S_INTERCEPT
    int replay               # re-running an instruction already counted and offered
